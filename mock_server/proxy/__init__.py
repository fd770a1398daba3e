"""The validating proxy behind ``flux-mock proxy``: `app` (the factory), `forward` (the endpoint), `contract`
(both directions against openapi.yaml), `guard` (scenarios on proxied traffic), `exchange` (options and what an
observer sees) and `serve` (running it on a socket)."""
