"""A job's record (its draft, slot instant and forced state) gives the same job back, with the same plan."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from mock_server import JobStatus, VirtualClock
from mock_server.domain.jobs import Job, JobStore, Timing, plan_job
from mock_server.domain.stores.records import draft_of, forced_fields, load_job

timings = st.builds(
    Timing,
    duration=st.floats(0, 100),
    queued_extra=st.floats(0, 10),
    fail_at=st.none() | st.integers(0, 99),
    stall_at=st.none() | st.integers(0, 99),
    honour_timeout=st.booleans(),
    not_found_for=st.floats(0, 5),
    queued_status=st.none() | st.just("SUBMITTED"),
    flaky_every=st.none() | st.integers(1, 5),
)


@given(
    timing=timings,
    slot=st.floats(0, 50),
    prompt=st.none() | st.text(max_size=40),
    buttons=st.lists(st.sampled_from(["U1", "V1", "🔄"]), max_size=3).map(tuple),
    forced=st.none() | st.sampled_from(list(JobStatus)),
)
def test_a_job_survives_its_record(
    timing: Timing, slot: float, prompt: str | None, buttons: tuple[str, ...], forced: JobStatus | None
) -> None:
    clock = VirtualClock(1_750_000_000.5)
    store = JobStore(clock, seed=3)
    made = store.submit(
        kind="mj-imagine", account="sk", timeout=600, timing=timing, prompt=prompt, buttons=buttons, art=("a", 2)
    )
    # As the Redis store makes it: the plan from the draft and the instant the account's slot freed up.
    job = Job(
        made.message_id, made.kind, made.account, plan_job(made.plan.created_at, clock.now() + slot, 600, timing, 1), 7
    )
    for name in ("prompt", "buttons", "art", "timeout", "timing"):
        setattr(job, name, getattr(made, name))
    if forced is not None:
        job.forced, job.version = made.snapshot(clock.now()), 2
    record = {"d": draft_of(job).decode(), "s": repr(clock.now() + slot), "n": "7", **forced_fields(job)}
    back = load_job(job.message_id, orjson.loads(orjson.dumps(record)))
    assert back == job
    assert back is not None
    assert back.snapshot(1_750_000_100.0) == job.snapshot(1_750_000_100.0)


def test_a_record_without_a_draft_is_no_job() -> None:
    assert load_job("x", {"f": "", "v": "1"}) is None
