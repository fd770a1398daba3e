"""The validating proxy behind ``flux-mock proxy``: `app` (the factory), `forward` (the endpoint), `contract`
(both directions against openapi.yaml), `guard` (scenarios on proxied traffic) and `exchange` (options and what an
observer sees). `mock_server.run.proxy` serves it on a socket."""
