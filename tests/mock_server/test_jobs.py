"""Job store: seeded ids and the per-account FIFO queue."""

from __future__ import annotations

import uuid

import pytest

from mock_server import JobNotFound, JobStatus, VirtualClock
from mock_server.jobs import IdGenerator, JobStore, Timing


def test_ids_are_uuid4_and_reproducible() -> None:
    a, b = IdGenerator(7), IdGenerator(7)
    first = [a() for _ in range(5)]
    assert first == [b() for _ in range(5)]
    assert all(uuid.UUID(i).version == 4 for i in first)
    assert IdGenerator(8)() != first[0]


def test_concurrency_limit_makes_queued_real() -> None:
    clock = VirtualClock(0.0)
    store = JobStore(clock, concurrency=2)
    jobs = [store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=10)) for _ in range(5)]
    starts = [j.plan.starts_at for j in jobs]
    assert starts == [0.0, 0.0, 10.0, 10.0, 20.0]
    assert [j.snapshot(0.0).status for j in jobs] == [JobStatus.PROCESSING] * 2 + [JobStatus.QUEUED] * 3
    # Another account has its own queue.
    other = store.submit(kind="imagine", account="other", timeout=900, timing=Timing(duration=10))
    assert other.plan.starts_at == 0.0


def test_finished_jobs_free_their_slot() -> None:
    clock = VirtualClock(0.0)
    store = JobStore(clock, concurrency=1)
    store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3))
    clock.advance(5)
    late = store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3))
    assert late.plan.starts_at == 5.0


def test_get_force_clear() -> None:
    clock = VirtualClock(0.0)
    store = JobStore(clock, seed=3)
    job = store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3))
    assert store.get(job.message_id) is job
    with pytest.raises(JobNotFound, match="not found"):
        store.get("00000000-0000-4000-8000-000000000000")
    store.force(job.message_id, JobStatus.FAIL, 42, "forced")
    assert job.snapshot(100.0).progress == 42
    store.clear()
    assert len(store) == 0
    again = store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3))
    assert again.message_id == job.message_id  # same seed, same ids after a reset
