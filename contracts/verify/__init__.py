"""``flux-mock verify``: holds a client to the contract. `run` (the engine), `checks` (pure checks on a client's
journal), `exchanges`, `blocked_webhooks` and `report`."""
