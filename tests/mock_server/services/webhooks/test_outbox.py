"""Planning ahead into a shared outbox sends exactly what the timer path sends, and the pump hands leases back."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from mock_server import JobStatus, Settings, VirtualClock, create_app
from mock_server.domain.jobs import Timing
from mock_server.services.webhooks.outbox import Planner

URL = "http://127.0.0.1:9/hook"  # never contacted: the timer path runs with webhook_transport=record


class CollectingOutbox:
    """An outbox that keeps what is put into it (the planner's output)."""

    lease_ms = 1000

    def __init__(self) -> None:
        self.put_calls: list[tuple[str, dict[str, Any], float]] = []
        self.cancelled: list[tuple[str, float]] = []
        self.wake = lambda due: None

    def put(self, delivery_id: str, message_id: str, record: dict[str, Any], due: float) -> None:
        self.put_calls.append((delivery_id, record, due))

    def cancel_after(self, message_id: str, now: float) -> None:
        self.cancelled.append((message_id, now))


def test_the_planner_runs_timers_in_instant_order_including_those_they_add() -> None:
    planner, ran = Planner(), []
    planner.call_at(5, lambda: ran.append(5))
    planner.call_at(1, lambda: (ran.append(1), planner.call_at(3, lambda: ran.append(3))))
    planner.run()
    assert ran == [1, 3, 5]


@pytest.mark.parametrize(
    ("events", "fault", "timing"),
    [
        ("final", None, Timing(duration=4)),
        ("progress", None, Timing(duration=4)),
        ("final", "early", Timing(duration=4)),
        ("progress", "out-of-order,corrupt", Timing(duration=4)),
        ("progress", None, Timing(duration=4, fail_at=50, error="boom")),
        ("final", None, Timing(duration=4, stall_at=30, honour_timeout=False)),
    ],
)
def test_planning_ahead_gives_the_deliveries_the_timer_path_sends(
    events: str, fault: str | None, timing: Timing
) -> None:
    settings = Settings(seed=5, webhook_events=events, webhook_transport="record")  # type: ignore[arg-type]
    clock = VirtualClock(start=1_750_000_000.0)
    timers = create_app(settings, clock=clock).state.services
    ahead = create_app(settings, clock=VirtualClock(start=1_750_000_000.0)).state.services
    outbox = CollectingOutbox()
    ahead.webhooks.outbox = outbox  # what a shared store sets (without a pump: nothing is sent here)
    fields = {"prompt": "fox", "webhook_url": URL, "webhook_fault": fault}
    ahead.jobs.submit(kind="imagine", account="k", timeout=900, timing=timing, **fields)

    async def drive() -> list[tuple[str, str, str, float]]:
        timers.webhooks.start()
        timers.jobs.submit(kind="imagine", account="k", timeout=900, timing=timing, **fields)
        for _ in range(20):
            clock.advance(1)
        await timers.webhooks.aclose(0)
        return [(a.delivery_id, a.event, a.payload, a.at) for a in timers.webhooks.journal.entries()]

    sent = anyio.run(drive)
    planned = [(i, r["event"], r["body"], due) for i, r, due in outbox.put_calls]
    assert [(i, e, b) for i, e, b, _ in planned] == [(i, e, b) for i, e, b, _ in sent]
    assert all(due <= at for (*_, due), (*_, at) in zip(planned, sent, strict=True))  # due no later than sent


def test_a_forced_job_is_planned_anew_from_the_forced_instant() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    svc = create_app(Settings(seed=5, webhook_url=URL), clock=clock).state.services
    outbox = CollectingOutbox()
    svc.webhooks.outbox = outbox
    job = svc.jobs.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=10))
    assert [r["event"] for _, r, _ in outbox.put_calls] == ["final"]
    clock.advance(2)
    svc.jobs.force(job.message_id, JobStatus.FAIL, 20, "forced")
    assert outbox.cancelled == [(job.message_id, clock.now())]  # the natural final, due later, is withdrawn
    delivery_id, record, due = outbox.put_calls[-1]
    assert (record["event"], due) == ("final", clock.now())
    assert '"status":"FAIL"' in record["body"]
    assert delivery_id != outbox.put_calls[0][0]  # a new delivery, not a retry of the withdrawn one
