"""`JournalMiddleware`: every request the mock answers goes into the request journal.

Pure ASGI (no BaseHTTPMiddleware) keeps the per-request cost to a few microseconds.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.contract.spec import ADMIN_PREFIX
from mock_server.domain.clock import Clock
from mock_server.domain.records.journal import Journal


class JournalMiddleware:
    """Record every HTTP request with its final status, timing and what endpoints noted in `request.state`."""

    def __init__(self, app: ASGIApp, journal: Journal, clock: Clock, *, skip_prefix: str = ADMIN_PREFIX) -> None:
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
        self.journal.open += 1

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.journal.open -= 1
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


def add_tag(scope: Scope, tag: str) -> None:
    """Note a tag (a scenario, a fault, ...) for the journal entry of this request."""
    scope.setdefault("state", {}).setdefault("tags", []).append(tag)
