"""`RateLimitMiddleware`: the documented limits per API key, 429 + Retry-After (see `mock_server.domain.ratelimit`)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.problems import nest_body
from mock_server.domain.operations import Operations, api_operation
from mock_server.domain.ratelimit import bucket_of
from mock_server.domain.stores.base import Store
from mock_server.web.answers import send_json
from mock_server.web.middleware.auth import bearer_token
from mock_server.web.middleware.journal import add_tag


class RateLimitMiddleware:
    """Answer 429 + Retry-After when a key goes over its window; requests without a key pass (auth answers 401)."""

    def __init__(self, app: ASGIApp, store: Store, operations: Operations, enabled: bool = True) -> None:
        self.app = app
        self.operations = operations
        self.store = store
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        op = api_operation(scope, self.operations) if self.enabled else None
        key = bearer_token(scope) if op is not None else None
        wait = await self.store.hit(key, bucket_of(op.role)) if op is not None and key is not None else None
        if wait is None:
            await self.app(scope, receive, send)
            return
        add_tag(scope, "rate-limited")
        scope.setdefault("state", {})["account"] = key
        await send_json(send, 429, nest_body(429), {"Retry-After": str(wait)})
