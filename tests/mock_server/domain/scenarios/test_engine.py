"""Choosing scenarios: header and Prefer parsing, prompt directives, rule scoping and precedence."""

from __future__ import annotations

import httpx
import pytest

from mock_server import MockControl, ScenarioError, Settings, UnknownScenario, VirtualClock, create_app
from mock_server.domain.scenarios.engine import ScenarioEngine, prefer_scenarios, request_kind, strip_directives

IMAGINE = "/api/v1/flux/imagine"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("scenario=fail", ["fail"]),
        ("respond-async, scenario=fail", ["fail"]),
        ('scenario="fail:40,latency:10"', ["fail:40,latency:10"]),
        ("scenario=fail; foo=bar, return=minimal", ["fail"]),
        ("return=minimal", []),
        ("scenario=fail, scenario=flaky:2", ["fail", "flaky:2"]),
    ],
)
def test_prefer_header_yields_scenario_preferences(header: str, expected: list[str]) -> None:
    assert prefer_scenarios(header) == expected


@pytest.mark.parametrize(
    ("prompt", "stripped"),
    [
        ("a cat [mock:fail]", "a cat"),
        ("[mock:fail] a cat", "a cat"),
        ("a [mock:fail] cat [MOCK:latency:5]", "a cat"),
        ("no directive here", "no directive here"),
        ("[mock:fail]", ""),
    ],
)
def test_directives_are_stripped(prompt: str, stripped: str) -> None:
    assert strip_directives(prompt) == stripped


def test_request_kinds_follow_the_operation_role() -> None:
    assert [request_kind(role) for role in ("create", "poll", "read", "download", "other")] == [
        "create",
        "poll",
        "other",
        "other",
        "other",
    ]


def test_header_beats_directive_beats_rules_beats_default() -> None:
    engine = ScenarioEngine(default="slow:9")
    engine.arm("queued:1")
    assert engine.select("create", ["fail"], "x [mock:stall]").source == "header"
    assert engine.select("create", [], "x [mock:stall]").source == "prompt"
    assert engine.select("create", [], "x").source == "rule:1"
    engine.clear()
    chosen = engine.select("create", [], "x")
    assert (chosen.source, chosen.text) == ("default", "slow:9")


def test_a_higher_source_does_not_use_up_an_armed_count() -> None:
    engine = ScenarioEngine()
    rule = engine.arm("fail", count=1)
    engine.select("create", ["latency:5"], None)
    assert rule.remaining == 1
    assert engine.select("create", [], None).source == f"rule:{rule.id}"
    assert engine.rules == []


def test_job_rules_wait_for_a_create_and_wire_rules_take_any_request() -> None:
    engine = ScenarioEngine()
    job_rule = engine.arm("fail", count=1)
    wire_rule = engine.arm("reject:503", count=1)
    assert engine.select("poll", [], None).source == f"rule:{wire_rule.id}"
    assert engine.select("poll", [], None).source == "none"
    assert engine.select("create", [], None).source == f"rule:{job_rule.id}"


def test_prompt_rules_match_by_search_and_stay_armed_without_count() -> None:
    engine = ScenarioEngine()
    engine.arm("fail", prompt_regex="boom")
    assert engine.select("create", [], "a boom b").text == "fail"
    assert engine.select("create", [], "a boom c").text == "fail"
    assert engine.select("create", [], "quiet").source == "none"
    assert engine.select("create", [], None).source == "none"  # upscale: no prompt


def test_rules_are_consulted_oldest_first() -> None:
    engine = ScenarioEngine()
    engine.arm("fail", count=1)
    engine.arm("stall", count=1)
    assert [engine.select("create", [], None).text for _ in range(3)] == ["fail", "stall", ""]


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"scenario": "nope"}, UnknownScenario, "Unknown scenario 'nope'"),
        ({"scenario": ""}, ScenarioError, "at least one scenario"),
        ({"scenario": "fail", "count": 0}, ScenarioError, "count has value 0"),
        ({"scenario": "fail", "prompt_regex": "("}, ScenarioError, "not a valid regular expression"),
    ],
)
def test_arming_bad_rules_says_why(kwargs: dict[str, object], error: type[Exception], fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        ScenarioEngine().arm(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def api_and_control() -> tuple[httpx.AsyncClient, MockControl]:
    app = create_app(Settings(job_seconds=3, seed=1, api_keys=("sk-test",)), clock=VirtualClock())
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers={"Authorization": "Bearer sk-test"}
    )
    return client, app.state.control


@pytest.mark.anyio
async def test_directive_is_stripped_from_the_stored_prompt(
    api_and_control: tuple[httpx.AsyncClient, MockControl],
) -> None:
    api, control = api_and_control
    async with api:
        created = await api.post(IMAGINE, json={"prompt": "a red fox [mock:slow:5]"})
        message = (await api.get(f"/api/v1/message/fetch/{created.json()['messageId']}")).json()
    assert message["prompt"] == "a red fox"
    assert control.jobs[0].scenario == "slow:5"
    assert control.requests[0].body == '{"prompt":"a red fox [mock:slow:5]"}'  # the journal keeps what was sent


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "prompt", "where"),
    [
        ({"X-Mock-Scenario": "fial"}, "x", "X-Mock-Scenario/Prefer header"),
        ({"Prefer": "scenario=slow"}, "x", "X-Mock-Scenario/Prefer header"),
        ({}, "x [mock:reject:404]", "prompt directive"),
    ],
)
async def test_a_bad_scenario_in_a_request_is_a_clear_400(
    api_and_control: tuple[httpx.AsyncClient, MockControl], headers: dict[str, str], prompt: str, where: str
) -> None:
    api, control = api_and_control
    async with api:
        response = await api.post(IMAGINE, json={"prompt": prompt}, headers=headers)
    assert response.status_code == 400
    assert where in response.json()["message"]
    assert control.jobs == []
    assert "bad-scenario" in control.requests[-1].tags


@pytest.mark.anyio
async def test_body_is_replayed_intact_after_peeking(api_and_control: tuple[httpx.AsyncClient, MockControl]) -> None:
    api, control = api_and_control
    body = {"prompt": "p" * 5000, "n": 2, "ref": "r"}
    async with api:
        response = await api.post(IMAGINE, json=body)
    assert response.status_code == 200
    job = control.jobs[0]
    assert (job.prompt, job.n, job.ref) == ("p" * 5000, 2, "r")


@pytest.mark.anyio
async def test_scenarios_never_touch_images_or_the_admin_api(
    api_and_control: tuple[httpx.AsyncClient, MockControl],
) -> None:
    api, control = api_and_control
    control.arm("reject:500")
    async with api:
        assert (await api.get("/__mock/health", headers={"X-Mock-Scenario": "reject:500"})).status_code == 200
        missing = await api.get("/storage/v1/object/public/cdn/x.png", headers={"X-Mock-Scenario": "reject:500"})
        assert missing.status_code == 404
        assert (await api.post(IMAGINE, json={"prompt": "x"})).status_code == 500


@pytest.mark.anyio
async def test_job_scenarios_sent_on_a_poll_are_tagged_as_ignored(
    api_and_control: tuple[httpx.AsyncClient, MockControl],
) -> None:
    api, control = api_and_control
    async with api:
        message_id = (await api.post(IMAGINE, json={"prompt": "x"})).json()["messageId"]
        polled = await api.get(f"/api/v1/message/fetch/{message_id}", headers={"X-Mock-Scenario": "fail, latency:0"})
    assert polled.json()["status"] == "PROCESSING"
    assert control.requests[-1].tags == ("via:header", "ignored:fail", "latency:0")


@pytest.mark.anyio
async def test_a_job_default_is_silent_on_polls() -> None:
    app = create_app(Settings(job_seconds=3, scenario="fail:10"), clock=VirtualClock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://x", headers={"Authorization": "Bearer k"}
    ) as api:
        message_id = (await api.post(IMAGINE, json={"prompt": "x"})).json()["messageId"]
        await api.get(f"/api/v1/message/fetch/{message_id}")
    create, poll = app.state.control.requests
    assert (create.tags, poll.tags) == (("via:default", "fail:10"), ())
