"""The journal layer: every answer journalled with the status sent, and, as the outermost layer, server errors
answered by the app's handler (the NestJS 500, or 503 while the shared store is away) and re-raised for the log."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from mock_server import Settings, VirtualClock, create_app
from mock_server.services.container import Services
from mock_server.web.endpoints import CreateJob

pytestmark = pytest.mark.anyio

KEY = {"Authorization": "Bearer sk-journal"}
IMAGINE = "/api/v1/flux/imagine"


class Broken(RuntimeError):
    """What a bug in an endpoint raises."""


@pytest.fixture
def broken_creates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every create endpoint raises `Broken` (a bug), for this test only."""

    async def broken(self: CreateJob, scope: Scope, receive: Receive, send: Send) -> None:
        raise Broken("a bug")

    monkeypatch.setattr(CreateJob, "__call__", broken)


def mock(*, lane: bool = True) -> tuple[Any, Services]:
    """A mock whose creates take the fast lane, or the whole walk (a scenario armed for other prompts)."""
    app = create_app(Settings(job_seconds=3), clock=VirtualClock())
    svc: Services = app.state.services
    if not lane:
        svc.scenarios.arm("slow:5", prompt_regex="^never$")
    return app, svc


@pytest.mark.usefixtures("broken_creates")
@pytest.mark.parametrize("lane", [True, False], ids=["fast lane", "whole walk"])
async def test_an_unhandled_error_is_answered_by_the_apps_handler_journalled_and_raised(lane: bool) -> None:
    app, svc = mock(lane=lane)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock", headers=KEY) as client:
        with pytest.raises(Broken):  # re-raised, so the server logs it with its traceback
            await client.post(IMAGINE, json={"prompt": "a red fox"})
    quiet = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # as a server: answer, then log
    async with httpx.AsyncClient(transport=quiet, base_url="http://mock", headers=KEY) as client:
        answer = await client.post(IMAGINE, json={"prompt": "a red fox"})
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal server error", "error": "Internal Server Error", "statusCode": 500}
    entries = svc.journal.entries()
    assert [(e.method, e.path, e.status) for e in entries] == [("POST", IMAGINE, 500)] * 2


@pytest.mark.usefixtures("broken_creates")
async def test_the_status_journalled_is_the_one_sent_a_503_when_the_store_is_away(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, svc = mock()
    monkeypatch.setattr(svc.store, "describe_error", lambda exc: "the shared store did not answer")
    quiet = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=quiet, base_url="http://mock", headers=KEY) as client:
        answer = await client.post(IMAGINE, json={"prompt": "a red fox"})
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert [e.status for e in svc.journal.entries()] == [503]


async def test_admin_requests_are_not_journalled_but_their_server_errors_are_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, svc = mock()

    async def broken() -> dict[str, int]:
        raise Broken("a bug")

    monkeypatch.setattr(svc.store, "counts", broken)
    quiet = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=quiet, base_url="http://127.0.0.1") as client:
        answer = await client.get("/__mock/health")
    assert answer.status_code == 500
    assert answer.json() == {"message": "Internal server error", "error": "Internal Server Error", "statusCode": 500}
    assert svc.journal.entries() == []
