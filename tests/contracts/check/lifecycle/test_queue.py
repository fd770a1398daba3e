"""The per-key queue check, against scripted servers on a virtual clock: what it passes, fails and skips."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from contracts import VirtualTimer
from contracts.check.lifecycle.ledger import Ledger
from contracts.check.lifecycle.plans import LifecycleSettings
from contracts.check.lifecycle.queue import UNKNOWN, QueueWatch, concurrency
from contracts.core.calls import Caller
from contracts.core.reporting import Cost, Outcome
from mock_server import VirtualClock

BASE = "http://server.test"
START = 1_750_000_000.0


def caller_for(clock: VirtualClock, answer: Any) -> Caller:
    """A Caller whose server is `answer(request) -> httpx.Response`, on `clock`."""
    client = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url=BASE)
    return Caller(client, client, BASE, VirtualTimer(clock), Cost())


def scripted(clock: VirtualClock, runs: list[tuple[float, float]], health: Any = None) -> Caller:
    """A server whose n-th created job is QUEUED before runs[n][0], PROCESSING until runs[n][1], then DONE."""
    made: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/__mock/health":
            return httpx.Response(200, json=health)
        if request.method == "POST":
            made.append(f"job-{len(made)}")
            return httpx.Response(200, json={"success": True, "messageId": made[-1], "createdAt": "x"})
        index = made.index(request.url.path.rsplit("/", 1)[-1])
        start, end = runs[index]
        now = clock.now() - START
        status = "QUEUED" if now < start else "PROCESSING" if now < end else "DONE"
        return httpx.Response(200, json={"messageId": made[index], "status": status})

    return caller_for(clock, answer)


def watch(runs: list[tuple[float, float]], slots: int | None = 4) -> Outcome:
    clock = VirtualClock(start=START)
    caller = scripted(clock, runs)

    async def go() -> Outcome:
        ledger = Ledger(caller)
        queue = QueueWatch(caller, ledger, LifecycleSettings(seed=1, poll_interval=0.5, grace=5.0), slots)
        watching = asyncio.ensure_future(queue.run())
        for i in range(len(runs)):
            await ledger.send("fluxImagine", {"prompt": f"job {i}"}, f"job {i}")
        return await watching

    return asyncio.run(go())


FOUR = [(0.0, 3.0)] * 4


def test_a_job_that_waits_for_a_free_slot_passes() -> None:
    outcome = watch([*FOUR, (3.0, 6.0)])
    assert outcome.status == "passed", outcome.failures
    assert outcome.detail == "job 5 (job 4) started once job 0 ended"


def test_a_job_that_runs_while_every_slot_is_busy_fails() -> None:
    outcome = watch([*FOUR, (0.0, 3.0)])
    [failure] = outcome.failures
    assert failure.check == "queue_holds_jobs"
    assert (
        "job 'job 4' was PROCESSING while the 4 created before it (job 0, job 1, job 2, job 3) ran" in failure.message
    )
    assert (failure.expected, failure.actual, failure.message_id) == ("QUEUED", "PROCESSING", "job-4")
    assert "queue.concurrency" in failure.message
    assert failure.curl is not None
    assert f"{BASE}/api/v1/flux/imagine" in failure.curl
    assert f"{BASE}/api/v1/message/fetch/job-4" in failure.curl


def test_a_job_that_stays_queued_after_a_slot_frees_fails() -> None:
    outcome = watch([*FOUR, (20.0, 23.0)])
    [failure] = outcome.failures
    assert "stayed QUEUED 5 s after job 0 ended" in failure.message


def test_busy_slots_at_the_start_make_it_inconclusive() -> None:
    outcome = watch([(0.0, 3.0), (3.0, 6.0), (0.0, 3.0), (0.0, 3.0), (6.0, 9.0)])
    assert outcome.status == "skipped"
    assert "one of them was QUEUED too" in outcome.detail


def test_jobs_too_short_to_watch_make_it_inconclusive() -> None:
    outcome = watch([(0.0, 0.0)] * 5)
    assert outcome.status == "skipped"
    assert "one of them had ended" in outcome.detail


def test_an_unknown_concurrency_is_skipped_with_the_reason() -> None:
    outcome = watch([*FOUR, (3.0, 6.0)], slots=None)
    assert (outcome.status, outcome.detail) == ("skipped", UNKNOWN)
    assert "GET /__mock/health" in UNKNOWN


@pytest.mark.parametrize(
    ("health", "slots"),
    [
        ({"status": "ok", "queue": {"concurrency": 2, "setting": "--concurrency N"}}, 2),
        ({"status": "ok"}, None),  # an older mock, or another server
        ({"queue": {"concurrency": 0}}, None),
        ({"queue": {"concurrency": True}}, None),
        ([], None),
    ],
)
def test_the_concurrency_is_read_from_the_health_answer_only_in_its_shape(health: Any, slots: int | None) -> None:
    clock = VirtualClock(start=START)
    assert asyncio.run(concurrency(scripted(clock, [], health))) == slots


def test_a_server_without_a_health_route_has_no_known_concurrency() -> None:
    clock = VirtualClock(start=START)
    caller = caller_for(clock, lambda request: httpx.Response(404, json={"message": "Not Found"}))
    assert asyncio.run(concurrency(caller)) is None
