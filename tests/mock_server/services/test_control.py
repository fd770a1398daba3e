"""MockControl: the Python handle on a mock; reset really empties state; the same seed replays a run."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mock_server import MockControl, Settings, SystemClock, VirtualClock, create_app

pytestmark = pytest.mark.anyio

IMAGINE = "/api/v1/flux/imagine"
FETCH = "/api/v1/message/fetch/{}"
AUTH = {"Authorization": "Bearer sk-test"}


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1", headers=AUTH)


async def test_control_is_on_app_state_and_drives_a_job(app: Starlette, api: httpx.AsyncClient) -> None:
    control: MockControl = app.state.control
    rule = control.arm("fail:50", count=1)
    assert control.armed == [rule]
    message_id = (await api.post(IMAGINE, json={"prompt": "x"})).json()["messageId"]
    assert control.armed == []
    assert [j.message_id for j in control.jobs] == [message_id]
    control.advance(1.5)
    assert control.message(message_id)["status"] == "FAIL"
    assert [e.status for e in control.requests_for(message_id)] == [200]
    assert control.requests[0].tags == ("via:rule:1", "fail:50")


async def test_force_and_release_from_python(app: Starlette, api: httpx.AsyncClient) -> None:
    control: MockControl = app.state.control
    message_id = (await api.post(IMAGINE, json={"prompt": "x"})).json()["messageId"]
    control.force(message_id, "FAIL", error="boom")
    assert (await api.get(FETCH.format(message_id))).json()["error"] == "boom"
    control.release(message_id)
    assert (await api.get(FETCH.format(message_id))).json()["status"] == "PROCESSING"
    with pytest.raises(ValueError, match="must be one of"):
        control.force(message_id, "DONE!")


async def test_violations_from_python(app: Starlette, api: httpx.AsyncClient) -> None:
    await api.post(IMAGINE, json={"prompt": "x", "n": 5})
    [(entry, violation)] = app.state.control.violations
    assert (entry.status, violation.pointer, violation.rule) == (400, "/n", "maximum")


def test_advance_rejects_nonsense(app: Starlette) -> None:
    with pytest.raises(ValueError, match="seconds has value -1"):
        app.state.control.advance(-1)


def test_freeze_and_unfreeze_a_system_clock() -> None:
    clock = SystemClock()
    control: MockControl = create_app(Settings(), clock=clock).state.control
    control.freeze()
    frozen_at = control.now
    time.sleep(0.01)  # wall time must pass to show the clock stands still (10 ms, no job waits on it)
    assert control.now == frozen_at
    assert control.frozen
    control.advance(60)
    assert control.now == frozen_at + 60
    control.unfreeze()
    assert not control.frozen
    control.reset()
    assert clock.offset == 0.0
    assert abs(control.now - time.time()) < 5


async def test_reset_really_empties_state(tmp_path: Path, clock: VirtualClock) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("- scenario: slow:9\n  count: 1\n", encoding="utf-8")
    settings = Settings(job_seconds=3, seed=5, scenarios_file=str(rules), rate_limit="documented")
    app = create_app(settings, clock=clock)
    control: MockControl = app.state.control
    hook_calls: list[int] = []
    control.on_reset(lambda: hook_calls.append(1))

    async with client_for(app) as api:
        first = (await api.post(IMAGINE, json={"prompt": "x", "n": 2})).json()["messageId"]
        control.arm("fail", prompt_regex="x")
        control.set_credits("sk-test", 3)
        clock.advance(100)
        await api.get(FETCH.format(first), headers={"X-Mock-Scenario": "flaky:2"})
        assert (len(control.jobs), len(control.requests), len(control.armed)) == (1, 2, 1)

        control.reset()
        assert control.jobs == []
        assert control.requests == []
        assert control.credits == {}
        assert [r.as_dict()["scenario"] for r in control.armed] == ["slow:9"]  # the file's rule, count restored
        assert control.armed[0].remaining == 1
        assert clock.offset == 0
        assert hook_calls == [1]

        again = await api.post(IMAGINE, json={"prompt": "x", "n": 2})
        assert again.status_code == 200  # the rate-limit window is gone and there is no credit limit
        assert again.json()["messageId"] == first  # same seed, same id sequence
        assert control.jobs[0].scenario == "slow:9"
        assert control.requests[0].seq == 1
        # poll counts restarted: the second poll is the one that fails
        clock.advance(1)
        statuses = [(await api.get(FETCH.format(first), headers={"X-Mock-Scenario": "flaky:2"})).status_code]
        assert statuses == [200]


# --- replay ----------------------------------------------------------------------------------------------


async def _run(app: Starlette) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A run that draws from the seed on purpose (unnamed fail progress, garbage kind, stall progress)."""
    control: MockControl = app.state.control
    clock = control.clock

    async def fake_sleep(seconds: float) -> None:
        return None

    control.sleep = fake_sleep
    control.arm("fail", prompt_regex="^doomed")
    control.arm("garbage", count=2)
    async with client_for(app) as api:
        for prompt, headers in [
            ("doomed one", {}),
            ("plain", {}),
            ("plain", {}),
            ("stalls [mock:stall]", {}),
            ("late", {"X-Mock-Scenario": "not-yet:2, flaky:3"}),
            ("doomed two", {"Prefer": "scenario=latency:40"}),
            ("nope", {"X-Mock-Scenario": "reject:502"}),
        ]:
            await api.post(IMAGINE, json={"prompt": prompt}, headers=headers)
        for _ in range(4):
            clock.advance(1.25)
            for message_id in [j.message_id for j in control.jobs]:
                await api.get(FETCH.format(message_id))
    journal = [{k: v for k, v in e.as_dict().items() if k != "durationMs"} for e in control.requests]
    messages = [control.message(j.message_id) for j in control.jobs]
    return journal, messages


async def test_the_same_seed_gives_the_same_journal() -> None:
    settings = Settings(job_seconds=3, seed=42, api_keys=("sk-test",))
    first = await _run(create_app(settings, clock=VirtualClock(start=1_750_000_000.0)))
    second = await _run(create_app(settings, clock=VirtualClock(start=1_750_000_000.0)))
    assert first == second
    journal, messages = first
    assert len(journal) > 20
    assert {m["status"] for m in messages} >= {"FAIL", "PROCESSING", "DONE"}
    other = await _run(create_app(settings.replace(seed=43), clock=VirtualClock(start=1_750_000_000.0)))
    assert other != first  # the seed really matters


async def test_reset_then_replay_on_the_same_server_gives_the_same_journal() -> None:
    app = create_app(Settings(job_seconds=3, seed=7, api_keys=("sk-test",)), clock=VirtualClock())
    first = await _run(app)
    app.state.control.reset()
    assert await _run(app) == first
