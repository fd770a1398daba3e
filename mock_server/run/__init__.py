"""Layer 6, entry points: `cli` (``flux-mock``), `server` (uvicorn, `LiveServer`), `workers` (``--workers N``),
`connections` (connection limits), `proxy` (``flux-mock proxy`` on a socket) and `receiver` (`WebhookReceiver`)."""
