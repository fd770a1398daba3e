"""The proxy's own behaviour: pass-through, strict mode, the violations header, scenarios, the key, recording."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mock_server import (
    ConnectionDropped,
    ProxiedExchange,
    ProxyOptions,
    Settings,
    SettingsError,
    Violation,
    VirtualClock,
    create_app,
    create_proxy_app,
)
from mock_server.web.proxy.forward import header_value

pytestmark = pytest.mark.anyio

KEY = "sk-upstream-secret-1234"
AUTH = {"Authorization": f"Bearer {KEY}"}
IMAGINE = "/api/v1/flux/imagine"
FETCH = "/api/v1/message/fetch/{}"


class Upstream:
    """The mock as upstream, plus a count of what reached it and the keys it saw."""

    def __init__(self, clock: VirtualClock) -> None:
        self.app = create_app(Settings(job_seconds=3, seed=3, api_keys=(KEY,)), clock=clock)
        self.seen: list[tuple[str, str | None]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            auth = dict(scope["headers"]).get(b"authorization")
            self.seen.append((scope["path"], None if auth is None else auth.decode()))
        await self.app(scope, receive, send)


@pytest.fixture
def upstream(clock: VirtualClock) -> Upstream:
    return Upstream(clock)


def build(upstream: Upstream, clock: VirtualClock, settings: Settings | None = None, **options: Any) -> Starlette:
    observe = options.pop("observe", None)
    opts = ProxyOptions("http://upstream.test", transport=httpx.ASGITransport(upstream), **options)
    return create_proxy_app(settings or Settings(), opts, clock=clock, observe=observe)


@pytest.fixture
async def proxied(upstream: Upstream, clock: VirtualClock) -> AsyncIterator[httpx.AsyncClient]:
    app = build(upstream, clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        yield client


async def test_answers_come_back_unchanged_and_the_key_passes_through(
    proxied: httpx.AsyncClient, upstream: Upstream, clock: VirtualClock
) -> None:
    direct = httpx.AsyncClient(transport=httpx.ASGITransport(upstream.app), base_url="http://u")
    created = await proxied.post(IMAGINE, json={"prompt": "a red fox"}, headers=AUTH)
    assert created.status_code == 200
    clock.advance(1)
    via_proxy = await proxied.get(FETCH.format(created.json()["messageId"]), headers=AUTH)
    assert via_proxy.content == (await direct.get(FETCH.format(created.json()["messageId"]), headers=AUTH)).content
    assert upstream.seen[0] == (IMAGINE, f"Bearer {KEY}")
    journal = (await proxied.get("/__mock/requests")).text
    assert KEY not in journal
    assert (await proxied.get("/__mock/violations")).json() == []


async def test_a_non_strict_proxy_forwards_an_invalid_body_and_journals_it(
    proxied: httpx.AsyncClient, upstream: Upstream
) -> None:
    answer = await proxied.post(IMAGINE, json={"prompt": "x", "width": 1001}, headers=AUTH)
    assert answer.status_code == 400  # the upstream's own answer
    assert upstream.seen == [(IMAGINE, f"Bearer {KEY}")]
    [found] = (await proxied.get("/__mock/violations")).json()
    assert (found["location"], found["pointer"], found["rule"], found["value"]) == (
        "body",
        "/width",
        "multipleOf",
        1001,
    )
    assert found["hint"]


async def test_strict_refuses_invalid_requests_without_forwarding(upstream: Upstream, clock: VirtualClock) -> None:
    app = build(upstream, clock, strict=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        bad = await client.post(IMAGINE, json={"prompt": "x", "n": 9}, headers=AUTH)
        no_key = await client.post(IMAGINE, json={"prompt": "x"})
        bad_id = await client.get(FETCH.format("not-a-uuid"), headers=AUTH)
    assert bad.status_code == 400
    assert bad.json()["details"][0]["pointer"] == "/n"
    assert bad.json()["message"] == ["n must not be greater than 4"]
    assert no_key.status_code == 401
    assert no_key.json() == {"message": "Unauthorized", "statusCode": 401}
    assert bad_id.status_code == 400
    assert upstream.seen == []  # nothing forwarded: no credits spent


def _breaks_progress(exchange: ProxiedExchange) -> list[Violation]:
    if exchange.role != "poll":
        return []
    return [Violation("response", "/progress", "progress_never_decreases", ">= 50", 10, "progress fell", "keep it")]


async def test_strict_turns_an_invalid_answer_into_a_502_with_its_violations(
    upstream: Upstream, clock: VirtualClock
) -> None:
    app = build(upstream, clock, strict=True, violations_header=200, observe=_breaks_progress)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        created = await client.post(IMAGINE, json={"prompt": "a red fox"}, headers=AUTH)
        polled = await client.get(FETCH.format(created.json()["messageId"]), headers=AUTH)
    assert created.status_code == 200
    assert polled.status_code == 502
    assert polled.json()["details"][0]["rule"] == "progress_never_decreases"
    assert polled.headers["X-Flux-Mock-Violations"] == "1 violation(s): /progress progress_never_decreases"


async def test_the_violations_header_is_off_by_default_and_bounded(upstream: Upstream, clock: VirtualClock) -> None:
    async def poll(**options: Any) -> httpx.Response:
        app = build(upstream, clock, observe=_breaks_progress, **options)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
            created = await client.post(IMAGINE, json={"prompt": "a red fox"}, headers=AUTH)
            return await client.get(FETCH.format(created.json()["messageId"]), headers=AUTH)

    assert "X-Flux-Mock-Violations" not in (await poll()).headers
    assert (await poll()).status_code == 200  # not strict: the upstream's answer, unchanged
    many = [Violation("response", f"/images/{i}", "format", "uri", "x", "m", "h") for i in range(500)]
    value = header_value(many, 120)
    assert len(value) <= 120
    assert value.startswith("500 violation(s): /images/0 format")
    assert value.endswith("more at /__mock/violations")
    with pytest.raises(SettingsError, match="violations-header"):
        ProxyOptions("http://u", violations_header=10**6)


async def test_wire_faults_act_on_proxied_traffic(
    proxied: httpx.AsyncClient, upstream: Upstream, clock: VirtualClock
) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    svc = proxied._transport.app.state.services  # type: ignore[attr-defined]
    svc.scenarios.sleep = fake_sleep
    refused = await proxied.post(IMAGINE, json={"prompt": "x"}, headers={**AUTH, "X-Mock-Scenario": "reject:503"})
    assert refused.status_code == 503
    assert upstream.seen == []  # refused on the proxy, never forwarded
    slow = await proxied.post(IMAGINE, json={"prompt": "a fox [mock:latency:250]"}, headers=AUTH)
    assert slow.status_code == 200
    assert slept == [0.25]
    assert [path for path, _ in upstream.seen] == [IMAGINE]  # the slow one, forwarded once
    (await proxied.post("/__mock/scenarios", json={"scenario": "garbage:json", "count": 1})).raise_for_status()
    cut = await proxied.get(FETCH.format(slow.json()["messageId"]), headers=AUTH)
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    with pytest.raises(ConnectionDropped):
        await proxied.get(FETCH.format(slow.json()["messageId"]), headers={**AUTH, "X-Mock-Scenario": "disconnect"})


async def test_prompt_directives_are_stripped_before_forwarding(clock: VirtualClock) -> None:
    seen: list[bytes] = []
    mock = create_app(Settings(job_seconds=3), clock=clock)

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        async def capture() -> Any:
            message = await receive()
            seen.append(message.get("body", b""))
            return message

        await mock(scope, capture if scope["type"] == "http" else receive, send)

    opts = ProxyOptions("http://u", transport=httpx.ASGITransport(recording))
    app = create_proxy_app(Settings(), opts, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        await client.post(IMAGINE, json={"prompt": "a fox [mock:latency:1]"}, headers=AUTH)
    assert json.loads(seen[0])["prompt"] == "a fox"


async def test_job_scenarios_are_refused_with_a_clear_400(proxied: httpx.AsyncClient, upstream: Upstream) -> None:
    by_header = await proxied.post(IMAGINE, json={"prompt": "x"}, headers={**AUTH, "X-Mock-Scenario": "fail"})
    by_prompt = await proxied.post(IMAGINE, json={"prompt": "x [mock:stall]"}, headers=AUTH)
    assert by_header.status_code == by_prompt.status_code == 400
    assert "needs a job or a balance the mock owns" in by_header.json()["message"]
    assert "stall" in by_prompt.json()["message"]
    assert upstream.seen == []
    with pytest.raises(SettingsError, match="fail"):
        build(upstream, VirtualClock(), Settings(scenario="fail"))


async def test_an_unreachable_upstream_is_a_502_that_says_where(clock: VirtualClock) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    opts = ProxyOptions("http://upstream.test", transport=httpx.MockTransport(refuse))
    app = create_proxy_app(Settings(), opts, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        answer = await client.get(FETCH.format("00000000-0000-4000-8000-000000000000"), headers=AUTH)
    assert answer.status_code == 502
    assert "http://upstream.test" in answer.json()["message"]


async def test_a_recording_redacts_the_key_and_the_pointers_and_keeps_timing(
    upstream: Upstream, clock: VirtualClock, tmp_path: Path
) -> None:
    target = tmp_path / "session.har"
    app = build(upstream, clock, record=str(target), redact=("/prompt",))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        created = await client.post(IMAGINE, json={"prompt": "secret plans", "n": 1}, headers=AUTH)
        for _ in range(3):
            clock.advance(1.5)
            await client.get(FETCH.format(created.json()["messageId"]), headers=AUTH)
    app.state.recorder.close()
    text = target.read_text()
    assert KEY not in text
    assert "secret plans" not in text
    har = json.loads(text)
    assert har["log"]["version"] == "1.2"
    entries = har["log"]["entries"]
    assert [e["startedDateTime"][11:23] for e in entries] == [
        "15:06:40.000",
        "15:06:41.500",
        "15:06:43.000",
        "15:06:44.500",
    ]
    headers = {h["name"]: h["value"] for h in entries[0]["request"]["headers"]}
    assert headers["authorization"] == "Bearer [REDACTED]"
    assert json.loads(entries[-1]["response"]["content"]["text"])["prompt"] == "[REDACTED]"
