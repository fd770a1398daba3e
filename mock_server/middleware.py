"""Cross-cutting behaviour as pure ASGI middleware: the request journal and Bearer auth.

Pure ASGI (no BaseHTTPMiddleware) keeps the per-request cost to a few microseconds.
"""

from __future__ import annotations

import time

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import Clock
from .journal import Journal
from .problems import Violation, unauthorized


class JournalMiddleware:
    """Record every HTTP request with its final status, timing and what endpoints noted in `request.state`."""

    def __init__(self, app: ASGIApp, journal: Journal, clock: Clock, *, skip_prefix: str = "/__mock") -> None:
        self.app = app
        self.journal = journal
        self.clock = clock
        self.skip_prefix = skip_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefix):
            await self.app(scope, receive, send)
            return
        arrived = self.clock.now()
        started = time.perf_counter()
        status = 500
        seq = self.journal.next_seq()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.journal.record(
                seq,
                arrived,
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                status,
                (time.perf_counter() - started) * 1000,
                scope.get("state", {}),
            )


class BearerAuthMiddleware:
    """Require ``Authorization: Bearer <key>``; with a key list, only those keys pass.

    Put on API routes (after routing), so unknown paths answer 404 and wrong methods 405
    whatever the credentials, as NestJS does.
    """

    def __init__(self, app: ASGIApp, keys: tuple[str, ...] = ()) -> None:
        self.app = app
        self.keys = frozenset(keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._key(scope)
        if key is None or (self.keys and key not in self.keys):
            error = unauthorized()
            scope.setdefault("state", {})["violations"] = (self._violation(scope, key),)
            await send(
                {"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": orjson.dumps(error.body())})
            return
        scope.setdefault("state", {})["account"] = key
        await self.app(scope, receive, send)

    @staticmethod
    def _violation(scope: Scope, key: str | None) -> Violation:
        sent = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"authorization"), None)
        if key is None:
            message, hint = "Authorization must be 'Bearer <api key>'", "send the header Authorization: Bearer sk-..."
        else:
            message, hint = "API key is not accepted", "use one of the keys given to flux-mock with --api-key"
        shown = None if sent is None else sent[:12] + ("..." if len(sent) > 12 else "")
        return Violation("header", "/Authorization", "bearerAuth", "Bearer <api key>", shown, message, hint)

    @staticmethod
    def _key(scope: Scope) -> str | None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                token = token.strip()
                return token if scheme.lower() == "bearer" and token else None
        return None
