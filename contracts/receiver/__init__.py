"""``flux-mock verify-receiver``: holds a client's webhook receiver to the delivery contract. `scenarios` (what is
sent and what the contract expects back), `deliveries` (real deliveries, made by an in-process mock), `waves` (a
scenario's requests, signed or forged), `exchanges` (sending them over a socket or into an ASGI/WSGI app),
`verdicts` (judging the answers), `run` (the engine) and `report`."""
