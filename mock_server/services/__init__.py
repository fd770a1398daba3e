"""Layer 4, one server's running state: `container` (`Services`, built once by `create_app`), `control`
(`MockControl`), `scheduler`, `tasks`, `collector`, `webhooks/` (planning and sending deliveries) and `stores/` (the
Redis store, the fleet channel, the shared webhook outbox)."""
