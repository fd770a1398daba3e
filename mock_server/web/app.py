"""`create_app(settings)`: the only way to build the mock's ASGI app.

It wires the contract, the services, the routes and the middleware; it holds no request logic.
Middleware order, outermost first: see ARCHITECTURE.md ("One request"); the fast lane skips from itself to the
route when nothing between it and the route would act; ``/__mock`` is a mount behind its own admin guard.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from mock_server.config.settings import Settings
from mock_server.contract.problems import HttpError, error_body
from mock_server.contract.spec import Spec, load_spec
from mock_server.domain.clock import Clock, SystemClock
from mock_server.services import collector
from mock_server.services.container import Services
from mock_server.services.control import MockControl
from mock_server.web.admin.routes import admin_mount
from mock_server.web.answers import json_response
from mock_server.web.middleware.auth import KeyPolicy, key_policy
from mock_server.web.middleware.exceptions import HandledErrors
from mock_server.web.middleware.fastlane import FastLane
from mock_server.web.middleware.faults import FaultMiddleware
from mock_server.web.middleware.journal import JournalMiddleware
from mock_server.web.middleware.ratelimit import RateLimitMiddleware
from mock_server.web.middleware.selection import SelectionMiddleware
from mock_server.web.routes import IndexedRouter, api_routes, image_routes


class _QuietOutages(logging.Filter):
    """Drop uvicorn's traceback for a request answered 503 because the shared store is away (said once instead).

    Starlette re-raises after the error handler answered, so uvicorn would log each such request with a
    traceback; the store's `Outage` says the outage once. At ``--log-level debug`` the tracebacks stay.
    """

    def __init__(self, store: Any) -> None:
        super().__init__()
        self.store = store

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is None or logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
            return True
        return self.store.describe_error(exc) is None


class MockApp(Starlette):
    """Starlette with the layers every request crosses made cheaper: routing by path prefix (`IndexedRouter`),
    exception handling that builds a `Request` only for an error (`HandledErrors`), and server errors answered by
    the journal, the outermost layer, which watches every answer anyway."""

    def build_middleware_stack(self) -> ASGIApp:
        """The user middleware (`create_app` puts the journal outermost, answering server errors), then
        `HandledErrors` innermost."""
        handlers = {k: v for k, v in self.exception_handlers.items() if k not in (500, Exception)}
        middleware = [*self.user_middleware, Middleware(HandledErrors, handlers=handlers, debug=self.debug)]
        app: ASGIApp = self.router
        for cls, args, kwargs in reversed(middleware):
            app = cls(app, *args, **kwargs)
        return app


def scenario_middleware(svc: Services, accepts: KeyPolicy, *, between: tuple[Middleware, ...] = ()) -> list[Middleware]:
    """Scenario selection, then (after `between`) wire faults: the same pair for the mock and the proxy."""
    return [
        Middleware(
            SelectionMiddleware,
            engine=svc.scenarios,
            operations=svc.operations,
            max_body=svc.settings.max_body_bytes,
            accepts=accepts,
            store=svc.store,
        ),
        *between,
        Middleware(
            FaultMiddleware,
            engine=svc.scenarios,
            store=svc.store,
            credits=svc.credits,
            clock=svc.clock,
            operations=svc.operations,
            accepts=accepts,
        ),
    ]


def _replay(settings: Settings) -> list[Middleware]:
    # --replay only: the HAR reader and the replay middleware are imported when a recording is to be served.
    from mock_server.domain.records.har import load_har
    from mock_server.web.middleware.replay import ReplayMiddleware

    assert settings.replay is not None
    return [
        Middleware(
            ReplayMiddleware,
            entries=load_har(settings.replay),
            source=settings.replay,
            miss=settings.replay_miss,
            max_body=settings.max_body_bytes,
        )
    ]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, spec: Spec | None = None) -> Starlette:
    """Build a flux-mock ASGI app.

    Args:
        settings: server settings (default: ``Settings.from_env()``).
        clock: where "now" comes from; pass a `VirtualClock` in tests (default: `SystemClock`).
        spec: the contract (default: the packaged openapi.yaml).

    Example:
        from mock_server import Settings, VirtualClock, create_app
        clock = VirtualClock()
        app = create_app(Settings(job_seconds=3), clock=clock)
    """
    settings = settings if settings is not None else Settings.from_env()
    spec = spec if spec is not None else load_spec()
    svc = Services.build(settings, clock if clock is not None else SystemClock(), spec)
    documented = sorted({(op.method, op.path) for op in spec.operations.values()})
    ops = svc.operations
    accepts = key_policy(settings.api_keys)
    replay = _replay(settings) if settings.replay else []

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HttpError)
        request.state.violations = exc.violations
        return json_response(exc.body(), exc.status, exc.headers)

    async def routing_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            return json_response(error_body(405, f"Cannot {request.method} {request.url.path}"), 405, exc.headers)
        message = f"Cannot {request.method} {request.url.path}"
        body = error_body(exc.status_code, message)
        close = difflib.get_close_matches(request.url.path, [p for _, p in documented], n=1, cutoff=0.6)
        if close:
            methods = [m for m, p in documented if p == close[0]]
            body["message"] = f"{message}; did you mean {'/'.join(methods)} {close[0]}?"
        return json_response(body, exc.status_code, exc.headers)

    async def server_error(request: Request, exc: Exception) -> Response:
        unavailable = svc.store.describe_error(exc)
        if unavailable is not None:  # the shared store is away: say so, and that a retry may work
            return json_response(error_body(503, unavailable), 503, {"Retry-After": "1"})
        return json_response(error_body(500, "Internal server error"), 500)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Timers fire on real time from here on; on shutdown, pending webhooks get the grace period.
        svc.webhooks.start()
        await svc.store.start()
        quiet = _QuietOutages(svc.store)
        logging.getLogger("uvicorn.error").addFilter(quiet)
        collector.install(svc.jobs)  # a served app only: keeps GC pauses of a big job store off p99
        try:
            yield
        finally:
            logging.getLogger("uvicorn.error").removeFilter(quiet)
            await svc.webhooks.aclose()
            await svc.store.aclose()

    routes = [*api_routes(spec, svc), *image_routes(spec), admin_mount(settings.admin_token, settings.admin_host)]
    router = IndexedRouter(routes, lifespan=lifespan)
    handlers: dict[Any, Any] = {HttpError: http_error, HTTPException: routing_error}
    lane = Middleware(
        FastLane,
        router=router,
        engine=svc.scenarios,
        accepts=accepts,
        max_body=settings.max_body_bytes,
        handlers=handlers,
    )
    app = MockApp(
        middleware=[
            Middleware(
                JournalMiddleware, journal=svc.journal, clock=svc.clock, answers_errors=True, on_error=server_error
            ),
            *replay,  # recorded answers first; a miss goes on to the mock (or is a 404)
            *(
                [Middleware(RateLimitMiddleware, store=svc.store, operations=ops)]
                if settings.rate_limit == "documented"
                else []
            ),
            lane,  # a plain create or poll skips what follows up to its route
            *scenario_middleware(svc, accepts),
        ],
        exception_handlers={**handlers, Exception: server_error},
    )
    app.router = router
    app.state.services = svc
    app.state.control = MockControl(svc)
    app.state.control.on_reset(svc.webhooks.reset)  # forget tracked jobs and the webhook journal
    svc.store.on_reset = app.state.control.reset  # a shared store: another worker's reset resets this replica
    return app
