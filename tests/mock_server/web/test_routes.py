"""The route table: `IndexedRouter` picks the route Starlette's own walk would, for every kind of path."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import BaseRoute, Match

from mock_server import Settings, VirtualClock, create_app
from mock_server.web.routes import IndexedRouter

APP = create_app(Settings(), clock=VirtualClock())
ROUTER = APP.router
MID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def scope(method: str, path: str, root_path: str = "") -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": root_path, "headers": []}


def starlette_walk(request: dict[str, Any]) -> BaseRoute | None:
    """Starlette's rule: the first route that matches fully, unless a partial match (a 405) comes first."""
    for route in ROUTER.routes:
        match, _ = route.matches(request)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL:
            return None
    return None


def documented() -> list[tuple[str, str]]:
    spec = APP.state.services.spec
    return [(op.method, op.path.replace("{messageId}", MID).replace("{id}", "7")) for op in spec.operations.values()]


ODD = [
    ("GET", "/api/v1/flux/imagine"),  # documented path, wrong method: 405
    ("POST", "/api/v1/flux/imagine/"),  # trailing slash: Starlette's redirect walk
    ("GET", "/api/v1/message/fetch/"),  # an empty id
    ("GET", "/api/v1/nowhere"),
    ("GET", "/__mock/health"),
    ("POST", "/__mock/clock/advance"),
    ("GET", f"/storage/v1/object/public/cdn/{MID}.png"),
    ("HEAD", f"/api/v1/message/fetch/{MID}"),
    ("GET", "/"),
]


@pytest.mark.parametrize(("method", "path"), [*documented(), *ODD])
def test_the_indexed_router_picks_starlettes_route(method: str, path: str) -> None:
    assert isinstance(ROUTER, IndexedRouter)
    request = scope(method, path)
    found = ROUTER.find(request)
    expected = starlette_walk(request)
    if found is None:  # left to Starlette's walk: only when no route matches fully first
        assert expected is None, (method, path)
    else:
        assert found[0] is expected
        _, child = expected.matches(request)
        assert found[1] == child  # the same endpoint and path parameters


def test_every_documented_operation_is_found_without_the_walk() -> None:
    assert all(ROUTER.find(scope(method, path)) is not None for method, path in documented())


def test_a_root_path_is_left_to_starlette() -> None:
    assert ROUTER.find(scope("POST", "/base/api/v1/flux/imagine", root_path="/base")) is None
