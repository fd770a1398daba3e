"""The fast lane: the same answers and journal as the whole walk, taken only when nothing between applies."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server import Settings, VirtualClock, create_app
from mock_server.run.server import LiveServer
from mock_server.web.middleware.fastlane import FastLane

pytestmark = pytest.mark.anyio

KEY = "sk-lane"
AUTH = {"Authorization": f"Bearer {KEY}"}
IMAGINE = "/api/v1/flux/imagine"
FETCH = "/api/v1/message/fetch/{}"
# A request: method, path ({id} is the first job's messageId), headers beyond the key, body (None: no body).
Req = tuple[str, str, dict[str, str], Any]

LANE: list[Req] = [  # each takes the lane
    ("POST", IMAGINE, {}, {"prompt": "a red fox"}),
    ("GET", FETCH, {}, None),
    ("GET", "/api/v1/midjourney/message/{id}", {}, None),  # the legacy poll path
    ("GET", FETCH.format("00000000-0000-4000-8000-000000000000"), {}, None),  # 404
    ("GET", FETCH.format("not-an-id"), {}, None),  # 400: the id's schema
    ("POST", IMAGINE, {}, {"width": 3}),  # 400: no prompt, width below the minimum
    ("POST", IMAGINE, {}, b"{not json"),  # 400
    ("POST", IMAGINE, {"Content-Type": "text/plain"}, b'{"prompt": "x"}'),  # 415
    ("POST", IMAGINE, {}, b""),  # 400: no body
    ("POST", "/api/v1/nova/imagine", {}, {"prompt": "a grid"}),
    ("POST", "/api/v1/nova/button", {}, {"messageId": "{id}", "button": "U1"}),  # not a grid: 400
    ("POST", "/api/v1/nova/button", {}, {"messageId": "00000000-0000-4000-8000-000000000000", "button": "U1"}),
]
WALK: list[Req] = [  # each takes the whole walk
    ("POST", IMAGINE, {}, {"prompt": "a red fox [mock:fail]"}),
    ("POST", IMAGINE, {"X-Mock-Scenario": "reject:429"}, {"prompt": "a red fox"}),
    ("POST", IMAGINE, {"Prefer": "scenario=fail"}, {"prompt": "a red fox"}),
    ("POST", IMAGINE, {"Authorization": "Bearer sk-other"}, {"prompt": "a red fox"}),  # 401
    ("POST", IMAGINE, {"Authorization": "Basic abc"}, {"prompt": "a red fox"}),  # 401
    ("POST", IMAGINE, {"Content-Length": "999999999"}, {"prompt": "a red fox"}),  # 413 before reading
    ("POST", IMAGINE, {}, {"prompt": "x" * 70_000}),  # over --max-body-bytes: 413
    ("HEAD", FETCH, {}, None),
    ("POST", FETCH, {}, {"prompt": "x"}),  # 405
    ("GET", IMAGINE, {}, None),  # 405
    ("GET", "/api/v1/flux/imagin", {}, None),  # 404 with a suggestion
    ("GET", "/api/v1/subscription/account-info", {}, None),  # not a create or a poll
]


def make(enabled: bool) -> tuple[Starlette, FastLane, list[str]]:
    """An app whose lane is on or off, and the API paths that went past the lane to the layers behind it."""
    app = create_app(Settings(job_seconds=3, seed=7, api_keys=(KEY,), max_body_bytes=65_536), clock=VirtualClock())
    app.middleware_stack = app.build_middleware_stack()
    layer: Any = app.middleware_stack
    while not isinstance(layer, FastLane):
        layer = layer.app
    layer.enabled = enabled
    walked: list[str] = []
    behind: ASGIApp = layer.app

    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith("/api/"):  # the admin API always walks
            walked.append(scope["path"])
        await behind(scope, receive, send)

    layer.app = counting
    return app, layer, walked


def fill(value: Any, message_id: str) -> Any:
    if isinstance(value, str):
        return value.replace("{id}", message_id).replace("{}", message_id)
    if isinstance(value, dict):
        return {k: fill(v, message_id) for k, v in value.items()}
    return value


async def send(api: httpx.AsyncClient, req: Req, message_id: str) -> tuple[int, dict[str, str], bytes]:
    method, path, headers, body = fill(req, message_id)
    content = body if isinstance(body, bytes) else None if body is None else orjson.dumps(body)
    if content is not None and "Content-Type" not in headers:
        headers = {"Content-Type": "application/json", **headers}
    response = await api.request(method, path, headers={**AUTH, **headers}, content=content)
    return response.status_code, dict(response.headers), response.content


def journal(app: Starlette) -> list[dict[str, Any]]:
    entries = [e.as_dict() for e in app.state.services.journal.entries()]
    return [{k: v for k, v in e.items() if k != "durationMs"} for e in entries]


async def both(
    requests: list[Req], arm: str | None = None
) -> tuple[list[Any], list[Any], list[dict[str, Any]], list[str]]:
    """Send `requests` to an app with the lane and one without: both answers, the journal when both journals are
    the same (else an empty list), and the API paths that passed the lane."""
    answers, journals, passed = [], [], []
    for enabled in (True, False):
        app, _, walked = make(enabled)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as api:
            if arm is not None:
                assert (await api.post("/__mock/scenarios", json={"scenario": arm})).status_code == 201
            first = await api.post(IMAGINE, headers=AUTH, json={"prompt": "the first job"})
            message_id = first.json()["messageId"]
            answers.append([await send(api, req, message_id) for req in requests])
        journals.append(journal(app))
        passed.append(walked)
    return answers[0], answers[1], journals[0] if journals[0] == journals[1] else [], passed[0]


@pytest.mark.parametrize("req", LANE + WALK, ids=[f"{m} {p} {h} {str(b)[:30]}" for m, p, h, b in LANE + WALK])
async def test_answers_and_journal_are_the_walks(req: Req) -> None:
    lane, walk, same_journal, passed = await both([req])
    assert lane == walk
    assert same_journal, "the journal differs between the lane and the walk"
    taken = req in LANE
    assert (not passed) is taken, f"{req[0]} {req[1]}: expected {'the lane' if taken else 'the walk'}, got {passed}"


async def test_a_header_sent_twice_takes_the_walk_whose_layers_read_every_copy() -> None:
    # The lane reads the headers as a dict, which keeps the last copy; auth takes the first. A rejected key
    # followed by an accepted one must get the walk's 401, not slip through the lane on the second copy.
    twice = [("Authorization", "Bearer sk-other"), ("Authorization", f"Bearer {KEY}")]
    twice += [("Content-Type", "application/json")]
    answers = []
    for enabled in (True, False):
        app, _, walked = make(enabled)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8080") as api:
            response = await api.post(IMAGINE, headers=twice, content=b'{"prompt": "a red fox"}')
        answers.append((response.status_code, response.json()))
        assert walked == [IMAGINE]
    assert answers[0] == answers[1]
    assert answers[0][0] == 401


async def test_an_armed_scenario_sends_every_request_the_whole_walk() -> None:
    lane, walk, same_journal, passed = await both([LANE[0], LANE[1]], arm="fail")
    assert lane == walk
    assert same_journal
    assert passed[:2] == [IMAGINE, IMAGINE]
    assert passed[2].startswith("/api/v1/message/fetch/")
    assert len(passed) == 3
    assert orjson.loads(lane[0][2])["messageId"]  # the create was accepted; `fail` shows on its poll
    assert any("fail" in e["tags"] for e in same_journal if e["path"] == IMAGINE)


async def test_a_poll_fault_once_given_sends_polls_the_whole_walk() -> None:
    app, lane, walked = make(True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080", headers=AUTH) as api:
        created = await api.post(IMAGINE, json={"prompt": "a fox"}, headers={"X-Mock-Scenario": "not-yet:5"})
        message_id = created.json()["messageId"]
        assert (await api.get(FETCH.format(message_id))).status_code == 404  # the fault, acted out behind the lane
    assert lane.engine.poll_faults_used
    assert walked == [IMAGINE, FETCH.format(message_id)]


@given(
    prompt=st.text(alphabet=st.sampled_from("ab [mock:fail]MOCK:"), max_size=24),
    extra=st.dictionaries(st.sampled_from(["n", "width", "height", "seed", "output_format"]), st.integers(-2, 2000)),
)
async def test_any_create_body_gets_the_walks_answer(prompt: str, extra: dict[str, int]) -> None:
    lane, walk, same_journal, _ = await both([("POST", IMAGINE, {}, {"prompt": prompt, **extra})])
    assert lane == walk
    assert same_journal


def test_a_served_mock_takes_the_lane_and_steps_aside_once_armed() -> None:
    """Over a socket, with urllib: a plain create answers; once a scenario is armed, the next create gets it."""
    with LiveServer(settings=Settings(api_keys=(KEY,))) as server:
        status, answer = _post(server.url + IMAGINE, b'{"prompt": "a red fox"}', AUTH)
        assert status == 200
        assert answer["success"] is True
        armed = _post(server.url + "/__mock/scenarios", b'{"scenario": "reject:429", "count": 1}', {})
        assert armed[0] == 201, armed
        assert _post(server.url + IMAGINE, b'{"prompt": "a red fox"}', AUTH) == (429, _TOO_MANY)
        status, answer = _post(server.url + IMAGINE, b'{"prompt": "a red fox"}', AUTH)  # the rule is used up
        assert status == 200
        assert answer["success"] is True


_TOO_MANY = {"message": "ThrottlerException: Too Many Requests", "statusCode": 429}


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())
