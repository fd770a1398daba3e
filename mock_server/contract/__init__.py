"""Layer 1, the contract: `spec` loads openapi.yaml (and the admin API's `admin_openapi.yaml`), `errors` and
`problems` (`Violation`, the NestJS error bodies). Every rule the mock enforces is read from here."""
