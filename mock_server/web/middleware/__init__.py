"""Cross-cutting behaviour as pure ASGI middleware, one module each.

Order, outermost first: `journal` → `ratelimit` (only with ``--rate-limit documented``) → `selection`
→ `faults` → router → (per route) `auth` → endpoint. Each asks `mock_server.domain.operations` what a request is.
`exceptions` replaces Starlette's innermost exception layer (between `faults` and the router).
"""
