"""Every scenario through every way of choosing it: the client must see the documented effect each time.

Routes: the X-Mock-Scenario header, its Prefer alias, a [mock:...] prompt directive, an admin rule with a
count, an admin rule with a prompt regex, a --scenarios file rule, and the --scenario server default.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from mock_server import ConnectionDropped, MockControl, Settings, VirtualClock, create_app
from mock_server.contract.problems import nest_body
from mock_server.domain.scenarios.registry import FAIL_ERRORS, REGISTRY

API_KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
ROUTES = ("header", "prefer", "directive", "arm-count", "arm-regex", "file", "default")
PROMPT = "qa job"


@dataclass
class Harness:
    """One app set up so that `scenario` reaches the next create through `route`."""

    route: str
    scenario: str
    client: httpx.AsyncClient
    clock: VirtualClock
    control: MockControl
    sleeps: list[float] = field(default_factory=list)

    async def create(self, **body: Any) -> httpx.Response:
        headers: dict[str, str] = {}
        prompt = PROMPT
        if self.route == "header":
            headers["X-Mock-Scenario"] = self.scenario
        elif self.route == "prefer":
            headers["Prefer"] = f"respond-async, scenario={self.scenario}"
        elif self.route == "directive":
            prompt = f"{PROMPT} [mock:{self.scenario}]"
        return await self.client.post("/api/v1/flux/imagine", json={"prompt": prompt, **body}, headers=headers)

    async def upscale(self, image: str) -> httpx.Response:
        """A follow-up of the first job, sent the way the route sends scenarios (a header, or nothing: a directive
        or a prompt rule cannot reach a body without a prompt, a counted rule was used up by the first job)."""
        headers: dict[str, str] = {}
        if self.route == "header":
            headers["X-Mock-Scenario"] = self.scenario
        elif self.route == "prefer":
            headers["Prefer"] = f"respond-async, scenario={self.scenario}"
        return await self.client.post("/api/v1/flux/upscale", json={"image": image, "scale": 2}, headers=headers)

    @property
    def reaches_follow_ups(self) -> bool:
        return self.route in ("header", "prefer", "default")

    async def poll(self, message_id: str) -> httpx.Response:
        return await self.client.get(f"/api/v1/message/fetch/{message_id}")

    async def created_id(self, **body: Any) -> str:
        response = await self.create(**body)
        assert response.status_code == 200, response.text
        message_id: str = response.json()["messageId"]
        return message_id


@pytest.fixture
async def make_harness(tmp_path: Path) -> AsyncIterator[Callable[[str, str], Awaitable[Harness]]]:
    clients: list[httpx.AsyncClient] = []

    async def make(route: str, scenario: str) -> Harness:
        settings = Settings(job_seconds=3.0, seed=1, api_keys=(API_KEY,))
        if route == "default":
            settings = settings.replace(scenario=scenario)
        elif route == "file":
            path = tmp_path / "scenarios.yaml"
            path.write_text(f'- scenario: "{scenario}"\n  prompt_regex: "^{PROMPT}"\n', encoding="utf-8")
            settings = settings.replace(scenarios_file=str(path))
        clock = VirtualClock(start=1_750_000_000.0)
        app = create_app(settings, clock=clock)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8080", headers=AUTH
        )
        clients.append(client)
        harness = Harness(route, scenario, client, clock, app.state.control)

        async def fake_sleep(seconds: float) -> None:
            harness.sleeps.append(seconds)

        harness.control.sleep = fake_sleep
        if route == "arm-count":
            armed = await client.post("/__mock/scenarios", json={"scenario": scenario, "count": 1})
            assert armed.status_code == 201, armed.text
        elif route == "arm-regex":
            armed = await client.post("/__mock/scenarios", json={"scenario": scenario, "prompt_regex": f"^{PROMPT}"})
            assert armed.status_code == 201, armed.text
        return harness

    yield make
    for client in clients:
        await client.aclose()


# --- what the client must see, per scenario ----------------------------------------------------------------


async def _success(h: Harness) -> None:
    message_id = await h.created_id()
    h.clock.advance(3)
    body = (await h.poll(message_id)).json()
    assert body["status"] == "DONE"
    assert body["images"]


async def _fail_at_40(h: Harness) -> None:
    message_id = await h.created_id()
    h.clock.advance(1)
    assert (await h.poll(message_id)).json()["status"] == "PROCESSING"
    h.clock.advance(1)
    body = (await h.poll(message_id)).json()
    assert (body["status"], body["progress"]) == ("FAIL", 40)
    assert body["error"] in FAIL_ERRORS


async def _fail(h: Harness) -> None:
    message_id = await h.created_id()
    h.clock.advance(3)
    body = (await h.poll(message_id)).json()
    assert body["status"] == "FAIL"
    assert body["error"] in FAIL_ERRORS


async def _timeout(h: Harness) -> None:
    message_id = await h.created_id(timeout=10)
    h.clock.advance(9.5)
    assert (await h.poll(message_id)).json()["status"] == "PROCESSING"
    h.clock.advance(0.5)
    body = (await h.poll(message_id)).json()
    assert body["status"] == "FAIL"
    assert body["error"] == "Job timed out after 10 seconds"


async def _stall(h: Harness) -> None:
    message_id = await h.created_id(timeout=10)
    h.clock.advance(10_000)
    body = (await h.poll(message_id)).json()
    assert (body["status"], body["progress"]) == ("PROCESSING", 30)


async def _slow(h: Harness) -> None:
    message_id = await h.created_id()
    h.clock.advance(29)
    assert (await h.poll(message_id)).json()["status"] == "PROCESSING"
    h.clock.advance(1)
    assert (await h.poll(message_id)).json()["status"] == "DONE"


async def _queued(h: Harness) -> None:
    message_id = await h.created_id()
    h.clock.advance(9)
    assert (await h.poll(message_id)).json()["status"] == "QUEUED"
    h.clock.advance(4)
    assert (await h.poll(message_id)).json()["status"] == "DONE"


async def _not_yet(h: Harness) -> None:
    message_id = await h.created_id()
    early = await h.poll(message_id)
    assert early.status_code == 404
    assert early.json() == {"message": "Message not found", "error": "Not Found", "statusCode": 404}
    h.clock.advance(5)
    assert (await h.poll(message_id)).status_code == 200


async def _status_variant(h: Harness) -> None:
    message_id = await h.created_id()
    assert (await h.poll(message_id)).json()["status"] == "SUBMITTED"
    h.clock.advance(6)
    assert (await h.poll(message_id)).json()["status"] == "DONE"


def _reject(status: int) -> Callable[[Harness], Awaitable[None]]:
    async def check(h: Harness) -> None:
        response = await h.create()
        assert response.status_code == status
        assert response.json() == nest_body(status)
        assert response.headers.get("retry-after") == ("3" if status == 429 else None)
        assert h.control.jobs == []

    return check


async def _done_first(h: Harness) -> str:
    """The first job (not a follow-up) is untouched: DONE; its image URL."""
    message_id = await h.created_id()
    h.clock.advance(3)
    body = (await h.poll(message_id)).json()
    assert body["status"] == "DONE"
    return str(body["uri"])


async def _follow_up_fail(h: Harness) -> None:
    image = await _done_first(h)
    if h.reaches_follow_ups:
        upscaled = await h.upscale(image)
        assert upscaled.status_code == 200, upscaled.text
        h.clock.advance(3)
        body = (await h.poll(upscaled.json()["messageId"])).json()
        assert body["status"] == "FAIL"
        assert body["error"] in FAIL_ERRORS


def _follow_up_reject(status: int) -> Callable[[Harness], Awaitable[None]]:
    async def check(h: Harness) -> None:
        image = await _done_first(h)
        if h.reaches_follow_ups:
            refused = await h.upscale(image)
            assert refused.status_code == status
            assert refused.json() == nest_body(status)
            assert refused.headers.get("retry-after") == ("3" if status == 429 else None)
            assert len(h.control.jobs) == 1

    return check


async def _latency(h: Harness) -> None:
    response = await h.create()
    assert response.status_code == 200
    assert h.sleeps[:1] == [0.25]


async def _flaky(h: Harness) -> None:
    message_id = await h.created_id()
    statuses = [(await h.poll(message_id)).status_code for _ in range(4)]
    assert statuses == [200, 503, 200, 503]


async def _disconnect(h: Harness) -> None:
    with pytest.raises(ConnectionDropped):
        await h.create()
    assert h.control.requests[-1].status == 0
    assert h.control.jobs == []


async def _garbage_json(h: Harness) -> None:
    response = await h.create()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


async def _garbage_html(h: Harness) -> None:
    response = await h.create()
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert b"502 Bad Gateway" in response.content


async def _credits(h: Harness) -> None:
    assert (await h.create()).status_code == 200  # 6 credits: one image
    refused = await h.create()
    assert refused.status_code == 401
    assert refused.json() == {"message": "Insufficient credits", "error": "Unauthorized", "statusCode": 401}


CASES: dict[str, Callable[[Harness], Awaitable[None]]] = {
    "success": _success,
    "fail:40": _fail_at_40,
    "fail": _fail,
    "timeout": _timeout,
    "stall:30": _stall,
    "slow:30": _slow,
    "queued:10": _queued,
    "not-yet:5": _not_yet,
    "status-variant": _status_variant,
    **{f"reject:{status}": _reject(status) for status in (400, 401, 429, 500, 502, 503)},
    "follow-up-fail": _follow_up_fail,
    **{f"follow-up-reject:{status}": _follow_up_reject(status) for status in (429, 503)},
    "latency:250": _latency,
    "flaky:2": _flaky,
    "disconnect": _disconnect,
    "garbage:json": _garbage_json,
    "garbage:html": _garbage_html,
    "credits:6": _credits,
}


def test_the_matrix_covers_every_registered_scenario() -> None:
    assert {text.partition(":")[0] for text in CASES} == set(REGISTRY)


@pytest.mark.anyio
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("scenario", list(CASES))
async def test_scenario_through_route(
    make_harness: Callable[[str, str], Awaitable[Harness]], scenario: str, route: str
) -> None:
    harness = await make_harness(route, scenario)
    await CASES[scenario](harness)
    create = next(e for e in harness.control.requests if e.method == "POST")
    assert scenario in create.tags, create.tags
    source = {"header": "header", "prefer": "header", "directive": "prompt", "default": "default"}.get(route, "rule:")
    assert any(tag.startswith(f"via:{source}") for tag in create.tags), create.tags
