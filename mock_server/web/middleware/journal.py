"""`JournalMiddleware`: every request the mock answers goes into the request journal, with the status it was sent.

Pure ASGI (no BaseHTTPMiddleware) keeps the per-request cost to a few microseconds. Given the app's server-error
handler, it is also the outermost layer that answers an exception no other layer handled (what Starlette's
`ServerErrorMiddleware` does): it already watches what is sent, so a second layer wrapping `send` for every
request (~3% of a create's instructions) is saved, and the journal notes the status the client got (a 503 while
the shared store is away) rather than a guess.
"""

from __future__ import annotations

import time

from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

from mock_server.contract.spec import ADMIN_PREFIX
from mock_server.domain.clock import Clock
from mock_server.domain.records.journal import Journal


class JournalMiddleware:
    """Record every HTTP request with its final status, timing and what endpoints noted in `request.state`.

    With `answers_errors`, an unhandled exception is answered by `on_error` (Starlette's plain 500 when None; a
    traceback page with `debug`) unless an answer had started, then re-raised for the server to log, as
    `ServerErrorMiddleware` does, for journalled and unjournalled (admin) requests alike.
    """

    def __init__(
        self,
        app: ASGIApp,
        journal: Journal,
        clock: Clock,
        *,
        skip_prefix: str = ADMIN_PREFIX,
        answers_errors: bool = False,
        on_error: ExceptionHandler | None = None,
        debug: bool = False,
    ) -> None:
        self.app = app
        self.journal = journal
        self.clock = clock
        self.skip_prefix = skip_prefix
        self.errors = ServerErrorMiddleware(app, handler=on_error, debug=debug) if answers_errors else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip_prefix):
            await (self.app if self.errors is None else self.errors)(scope, receive, send)
            return
        arrived = self.clock.now()
        started = time.perf_counter()
        status = 0  # no answer started yet
        seq = self.journal.next_seq()
        self.journal.open += 1

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if self.errors is not None and status == 0:
                await self._answer(scope, receive, send_wrapper, exc)
            raise
        finally:
            self.journal.open -= 1
            self.journal.record(
                seq,
                arrived,
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                status or 500,
                (time.perf_counter() - started) * 1000,
                scope.get("state", {}),
            )

    async def _answer(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        # ServerErrorMiddleware's own choice of answer: the traceback page, its plain 500, or the app's handler.
        errors = self.errors
        assert errors is not None
        request = Request(scope)
        if errors.debug:
            response = await run_in_threadpool(errors.debug_response, request, exc)
        elif errors.handler is None:
            response = errors.error_response(request, exc)
        elif is_async_callable(errors.handler):
            response = await errors.handler(request, exc)  # type: ignore[assignment, arg-type]
        else:
            response = await run_in_threadpool(errors.handler, request, exc)  # type: ignore[arg-type]
        await response(scope, receive, send)


def add_tag(scope: Scope, tag: str) -> None:
    """Note a tag (a scenario, a fault, ...) for the journal entry of this request."""
    scope.setdefault("state", {}).setdefault("tags", []).append(tag)
