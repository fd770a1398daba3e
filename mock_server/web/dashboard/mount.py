"""The dashboard's route table, relative to ``/__mock``: its modules are imported on the first dashboard request.

The pages, feed and views (`routes` and what it imports, ~50 KB of Python) are not needed to serve the API, so
`flux-mock serve` answers its first request without importing them (``bench/startup.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

Endpoint = Callable[[Request], Awaitable[Response]]


def is_shell(path: str) -> bool:
    """Whether `path` (relative to ``/__mock``) is a dashboard page or asset: served without the admin token."""
    return (path == "/ui" or path.startswith("/ui/")) and path != "/ui/events"


def _on_first_use(name: str) -> Endpoint:
    # The endpoint `name` of `routes`, imported when a dashboard request first arrives (then held by Python).
    async def endpoint(request: Request) -> Response:
        routes = importlib.import_module("mock_server.web.dashboard.routes")
        handler: Endpoint = getattr(routes, name)
        return await handler(request)

    endpoint.__name__ = name
    return endpoint


def dashboard_routes() -> list[BaseRoute]:
    """The dashboard's routes, relative to ``/__mock`` (the feed before ``/ui/{view}``, which would match it)."""
    return [
        Route("/ui", _on_first_use("page"), methods=["GET"]),
        Route("/ui/events", _on_first_use("events"), methods=["GET"]),
        Route("/ui/assets/{name}", _on_first_use("asset"), methods=["GET"]),
        Route("/ui/jobs/{messageId}", _on_first_use("job_page"), methods=["GET"]),
        Route("/ui/{view}", _on_first_use("page"), methods=["GET"]),
    ]
