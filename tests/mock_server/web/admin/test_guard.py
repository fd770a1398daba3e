"""The guard from where a container puts the client: every /__mock route, a 0.0.0.0 bind, a non-loopback peer.

Behind a container's published port the host's own requests arrive from the bridge (e.g. 172.17.0.1) with
``Host: 127.0.0.1:8080``: a loopback Host, but not a loopback peer. Without a token nothing under /__mock may
answer them; with one, only the token opens it (the dashboard's pages and assets, which hold no state, excepted).
"""

from __future__ import annotations

import functools
import re

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from mock_server import Settings, VirtualClock, create_app
from mock_server.web.admin.routes import admin_routes
from mock_server.web.dashboard import is_shell

pytestmark = pytest.mark.anyio

BRIDGE_PEER = ("172.17.0.1", 40000)  # what the host looks like from inside a docker container


def _every_admin_call() -> list[tuple[str, str]]:
    calls = {
        (method, "/__mock" + re.sub(r"\{[^}]+\}", "x", route.path))
        for route in admin_routes()
        if isinstance(route, Route)
        for method in (route.methods or set()) - {"HEAD"}
    }
    return sorted(calls | {("GET", "/__mock/no-such-route")})


CALLS = _every_admin_call()


@functools.cache
def _app(settings: Settings) -> Starlette:
    # One app per settings: the guard refuses every call, so nothing a call does changes it.
    return create_app(settings, clock=VirtualClock())


async def _call(settings: Settings, method: str, path: str, **headers: str) -> httpx.Response:
    app = _app(settings)
    transport = httpx.ASGITransport(app=app, client=BRIDGE_PEER)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        return await client.request(method, path, json={} if method in ("POST", "PUT") else None, headers=headers)


def test_the_sweep_covers_the_admin_api_and_the_dashboard() -> None:
    paths = {path for _, path in CALLS}
    assert {"/__mock/health", "/__mock/reset", "/__mock/ui", "/__mock/ui/events", "/__mock/webhooks"} <= paths
    assert len(CALLS) > 20


@pytest.mark.parametrize(("method", "path"), CALLS)
async def test_without_a_token_no_admin_route_answers_a_non_loopback_peer(method: str, path: str) -> None:
    response = await _call(Settings(host="0.0.0.0"), method, path, **{"X-Forwarded-For": "127.0.0.1"})
    assert response.status_code == 403
    message = response.json()["message"]
    assert "this one is 172.17.0.1" in message
    assert "--admin-token" in message


@pytest.mark.parametrize(("method", "path"), [call for call in CALLS if not is_shell(call[1].removeprefix("/__mock"))])
async def test_with_a_token_only_the_token_opens_an_admin_route(method: str, path: str) -> None:
    settings = Settings(host="0.0.0.0", admin_token="s3cret")
    refused = await _call(settings, method, path)
    assert refused.status_code == 401
    assert "--admin-token" in refused.json()["message"]
    for wrong in ({"X-Mock-Admin-Token": "s3cre"}, {"Authorization": "Bearer S3CRET"}):
        assert (await _call(settings, method, path, **wrong)).status_code == 401


async def test_the_token_opens_the_admin_api_to_a_non_loopback_peer() -> None:
    settings = Settings(host="0.0.0.0", admin_token="s3cret")
    response = await _call(settings, "GET", "/__mock/health", Authorization="Bearer s3cret")  # the one that passes
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
