"""Job store: seeded ids and the per-account FIFO queue."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server import JobNotFound, JobStatus, VirtualClock
from mock_server.domain.jobs import IdGenerator, Job, JobStore, Timing, assemble_job, eviction_batch, next_slot


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


def test_the_nth_id_is_a_pure_function_of_seed_and_arrival_number() -> None:
    gen = IdGenerator(7)
    sequence = [gen() for _ in range(50)]
    assert sequence == [IdGenerator(7).nth(n) for n in range(1, 51)]  # what a shared store computes from a counter
    assert len(set(sequence)) == 50


def test_jobs_expire_after_the_ttl_and_answer_like_unknown_ones() -> None:
    clock = VirtualClock(0.0)
    store = JobStore(clock, ttl=60.0)
    old = store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3))
    clock.advance(30)
    young = store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3))
    clock.advance(30)
    assert store.find(old.message_id) is None
    with pytest.raises(JobNotFound):
        store.get(old.message_id)
    assert store.find(young.message_id) is young
    assert len(store) == 1
    assert store.evicted == 1


def test_max_jobs_forgets_the_oldest_first() -> None:
    store = JobStore(VirtualClock(0.0), max_jobs=3)
    jobs = [store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3)) for _ in range(5)]
    assert [j.message_id for j in store] == [j.message_id for j in jobs[2:]]


def test_a_full_store_evicts_in_batches_oldest_first_and_never_holds_more_than_its_cap() -> None:
    clock = VirtualClock(0.0)
    store = JobStore(clock, max_jobs=500)
    batch = eviction_batch(500)
    assert batch == 5
    sizes, jobs = [], []
    for _ in range(1_000):
        jobs.append(store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3)))
        sizes.append(len(store))
        clock.advance(0.001)
    assert max(sizes) == 500  # the cap is hard
    assert min(sizes[500:]) == 500 - batch  # once full, it holds between cap - batch and cap
    # Eviction happens once per batch + 1 creates, not on every create.
    drops = [i for i in range(1, len(sizes)) if sizes[i] < sizes[i - 1]]
    assert drops == list(range(500, 1_000, batch + 1))
    kept = [j.message_id for j in store]
    assert kept == [j.message_id for j in jobs[-len(store) :]]  # the newest are kept, in arrival order
    assert store.evicted == 1_000 - len(store)


def test_pages_follow_arrival_numbers_and_skip_forgotten_jobs() -> None:
    clock = VirtualClock(0.0)
    store = JobStore(clock, ttl=100.0)
    jobs = [store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=3)) for _ in range(5)]
    first = store.page(0, 2)
    assert [j.seq for j in first.jobs] == [1, 2]
    assert first.after == 2
    assert first.total == 5
    assert [j.seq for j in store.page(first.after or 0, 2).jobs] == [3, 4]
    assert store.page(4, 2).after is None
    store.discard(jobs[0].message_id)
    assert [j.seq for j in store.page(0, 10).jobs] == [2, 3, 4, 5]


@given(ends=st.lists(st.floats(0, 1000), max_size=6), concurrency=st.integers(1, 4), now=st.floats(0, 1000))
def test_next_slot_is_what_the_heap_gives(ends: list[float], concurrency: int, now: float) -> None:
    # The rule both stores apply: with every slot busy, the earliest to free up; otherwise now.
    busy = sorted(ends)[-concurrency:] if ends else []
    expected = max(now, busy[0]) if len(busy) >= concurrency else now
    assert next_slot(busy, concurrency, now) == expected


_OPTIONAL = [
    f.name for f in dataclasses.fields(Job) if f.name not in ("message_id", "kind", "account", "plan", "seq", "timing")
]
_VALUES = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.tuples(st.text(max_size=3)))


@given(
    chosen=st.lists(st.sampled_from(_OPTIONAL), unique=True),
    values=st.lists(_VALUES, min_size=len(_OPTIONAL), max_size=len(_OPTIONAL)),
    seq=st.integers(0, 10**6),
)
def test_assemble_job_makes_the_job_the_constructor_makes(chosen: list[str], values: list[object], seq: int) -> None:
    # Every field: given ones from `fields`, the rest their defaults (timeout's comes from a factory).
    plan = JobStore(VirtualClock()).create("sk-a", Timing(duration=3), {"kind": "imagine", "timeout": 60}).plan
    fields = {"kind": "imagine", **dict(zip(chosen, values, strict=False))}
    timing = Timing(duration=2)
    made = Job("id-1", account="sk-a", plan=plan, seq=seq, timing=timing, **fields)  # type: ignore[arg-type]
    assert assemble_job("id-1", "sk-a", plan, seq, timing, fields) == made
