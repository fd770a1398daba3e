"""`HandledErrors`: Starlette's inner exception layer without its per-request cost.

Starlette's `ExceptionMiddleware` builds a `Request` and wraps `send` for every request, to hand a handler
the request and to refuse a handled error once the answer has started. Both are needed only when an error
is raised, which is rare: this builds the `Request` then. Function endpoints (admin, dashboard) get
Starlette's own wrapper from their route, which tracks a started answer; the plain ASGI endpoints raise
`HttpError` before they send anything (each sends its whole answer last, in one `send_body`).
"""

from __future__ import annotations

from starlette._exception_handler import _lookup_exception_handler
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.types import Receive, Scope, Send


class HandledErrors(ExceptionMiddleware):
    """Render a raised exception with its registered handler (as `ExceptionMiddleware`), lazily for HTTP."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["starlette.exception_handlers"] = (self._exception_handlers, self._status_handlers)
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            await self.answer(scope, receive, send, exc)

    async def answer(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """Render `exc` with its registered handler; re-raise it when none is registered (a server error)."""
        handler = self._status_handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
        handler = handler or _lookup_exception_handler(self._exception_handlers, exc)
        if handler is None:
            raise exc
        request = Request(scope, receive, send)
        if is_async_callable(handler):
            response = await handler(request, exc)  # type: ignore[arg-type]
        else:
            response = await run_in_threadpool(handler, request, exc)
        if response is not None:
            await response(scope, receive, send)
        exc.__traceback__ = None  # a reused exception instance would pile up tracebacks
