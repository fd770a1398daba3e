"""The pure state machine: plan + now in, snapshot out."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server import JobStatus, load_spec
from mock_server.domain.lifecycle import Plan, plan, run_length, snapshot

ORDER = {JobStatus.QUEUED: 0, JobStatus.PROCESSING: 1, JobStatus.DONE: 2, JobStatus.FAIL: 2}


def test_status_enum_matches_the_spec() -> None:
    assert [s.value for s in JobStatus] == load_spec().status_enum


def test_happy_path_queued_processing_done() -> None:
    p = plan(created_at=100.0, slot_free_at=102.0, duration=10.0, timeout=900)
    assert snapshot(p, 100.0).status is JobStatus.QUEUED
    assert snapshot(p, 101.9) == snapshot(p, 100.0)
    mid = snapshot(p, 107.0)
    assert (mid.status, mid.progress) == (JobStatus.PROCESSING, 50)
    assert mid.updated_at == pytest.approx(107.0)
    assert snapshot(p, 111.99).progress == 99
    done = snapshot(p, 112.0)
    assert (done.status, done.progress, done.updated_at) == (JobStatus.DONE, 100, 112.0)


def test_instant_job_is_done_at_once() -> None:
    p = plan(created_at=5.0, slot_free_at=0.0, duration=0.0, timeout=900)
    assert snapshot(p, 5.0).status is JobStatus.DONE


def test_timeout_fails_with_error_at_the_deadline() -> None:
    p = plan(created_at=0.0, slot_free_at=0.0, duration=60.0, timeout=10)
    s = snapshot(p, 10.0)
    assert s.status is JobStatus.FAIL
    assert s.error == "Job timed out after 10 seconds"
    assert s.progress == 16  # where it was when time ran out
    assert snapshot(p, 9.99).status is JobStatus.PROCESSING


def test_queue_wait_counts_against_the_timeout() -> None:
    p = plan(created_at=0.0, slot_free_at=50.0, duration=3.0, timeout=10)
    s = snapshot(p, 10.0)
    assert (s.status, s.progress) == (JobStatus.FAIL, 0)


def test_fail_at_progress() -> None:
    p = plan(created_at=0.0, slot_free_at=0.0, duration=10.0, timeout=900, fail_at=40, error="NSFW content detected")
    assert snapshot(p, 3.9).status is JobStatus.PROCESSING
    s = snapshot(p, 4.0)
    assert (s.status, s.progress, s.error) == (JobStatus.FAIL, 40, "NSFW content detected")


def test_stall_never_finishes_unless_the_timeout_applies() -> None:
    stalled = plan(created_at=0.0, slot_free_at=0.0, duration=10.0, timeout=900, stall_at=30, honour_timeout=False)
    assert snapshot(stalled, 1e9).progress == 30
    assert snapshot(stalled, 1e9).status is JobStatus.PROCESSING
    assert math.isinf(stalled.ends_at)
    timed = plan(created_at=0.0, slot_free_at=0.0, duration=10.0, timeout=20, stall_at=30)
    assert snapshot(timed, 20.0).status is JobStatus.FAIL
    assert math.isfinite(timed.ends_at)


PLAN_ARGS = {
    "created_at": st.floats(0, 1e6),
    "slot_free_at": st.floats(0, 1e6),
    "duration": st.floats(0, 100),
    "timeout": st.integers(10, 900),
    "queued_extra": st.floats(0, 50),
    "fail_at": st.none() | st.integers(0, 99),
    "stall_at": st.none() | st.integers(0, 99),
}
plans = st.builds(plan, **PLAN_ARGS)


@given(plans, st.lists(st.floats(0, 3e6), min_size=2, max_size=20))
def test_snapshots_never_go_backwards(p: Plan, times: list[float]) -> None:
    previous = None
    for now in sorted(times):
        s = snapshot(p, now)
        assert 0 <= s.progress <= 100
        if previous is not None:
            assert ORDER[s.status] >= ORDER[previous.status]
            assert s.progress >= previous.progress or (s.status is JobStatus.FAIL and previous.status is JobStatus.FAIL)
            assert s.updated_at >= previous.updated_at
            if previous.status.terminal:
                assert s == previous
        if s.status is JobStatus.DONE:
            assert s.progress == 100
        if s.status is JobStatus.FAIL:
            assert s.error
        previous = s


@given(st.fixed_dictionaries({**PLAN_ARGS, "created_at": st.floats(0, 1e9), "honour_timeout": st.booleans()}))
def test_the_end_a_shared_store_books_is_the_plans_end(args: dict[str, Any]) -> None:
    # The Redis store's slot script computes min((max(created, slot) + extra) + run_length, deadline) in the same
    # order of operations; it must land on exactly the plan's ends_at, or an account's queue would drift.
    p = plan(**args)
    deadline = args["created_at"] + args["timeout"] if args["honour_timeout"] else math.inf
    start = max(args["created_at"], args["slot_free_at"]) + args["queued_extra"]
    booked = min(start + run_length(args["duration"], args["fail_at"], args["stall_at"]), deadline)
    assert booked == p.ends_at
