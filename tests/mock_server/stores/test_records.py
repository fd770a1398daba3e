"""Jobs as JSON records (what a Redis store holds) come back equal, stalls and forced states included."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mock_server import JobStatus, VirtualClock
from mock_server.jobs import JobStore, Timing
from mock_server.stores.records import dump_job, load_job

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
    prompt=st.none() | st.text(max_size=40),
    buttons=st.lists(st.sampled_from(["U1", "V1", "🔄"]), max_size=3).map(tuple),
    forced=st.none() | st.sampled_from(list(JobStatus)),
)
def test_a_job_survives_its_record(
    timing: Timing, prompt: str | None, buttons: tuple[str, ...], forced: JobStatus | None
) -> None:
    store = JobStore(VirtualClock(1_750_000_000.5), seed=3)
    job = store.submit(
        kind="mj-imagine", account="sk", timeout=600, timing=timing, prompt=prompt, buttons=buttons, art=("a", 2)
    )
    if forced is not None:
        store.force(job.message_id, forced, 40, "forced" if forced is JobStatus.FAIL else None)
    job.final_body = b"{}"  # a worker's own cache: not part of the record
    back = load_job(dump_job(job))
    job.final_body = None
    assert back == job
    assert back.snapshot(1_750_000_100.0) == job.snapshot(1_750_000_100.0)
