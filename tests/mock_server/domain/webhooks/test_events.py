"""Tests for mock_server.domain.webhooks.events: the instants at which a job's visible state changes."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from mock_server.domain.lifecycle import JobStatus, plan
from mock_server.domain.webhooks.events import final_at, next_change, state_at

T0 = 1_750_000_000.0


def changes(p: object, start: float) -> list[float]:
    out: list[float] = []
    t: float | None = start
    while t is not None:
        t = next_change(p, t)  # type: ignore[arg-type]
        if t is not None:
            out.append(t)
    return out


def test_a_plain_job_changes_once_per_progress_point_then_ends() -> None:
    p = plan(created_at=T0, slot_free_at=T0, duration=3.0, timeout=900)
    instants = changes(p, T0)
    states = [state_at(p, t) for t in instants]
    assert states[:3] == [(JobStatus.PROCESSING, 1), (JobStatus.PROCESSING, 2), (JobStatus.PROCESSING, 3)]
    assert states[-2:] == [(JobStatus.PROCESSING, 99), (JobStatus.DONE, 100)]
    assert len(instants) == 100
    assert instants[-1] == final_at(p) == T0 + 3.0


def test_a_queued_job_first_changes_when_it_starts() -> None:
    p = plan(created_at=T0, slot_free_at=T0 + 10, duration=2.0, timeout=900)
    first = next_change(p, T0)
    assert first == T0 + 10
    assert state_at(p, first) == (JobStatus.PROCESSING, 0)


def test_stalled_job_stops_changing_and_has_no_final_instant() -> None:
    p = plan(created_at=T0, slot_free_at=T0, duration=10.0, timeout=900, stall_at=5, honour_timeout=False)
    instants = changes(p, T0)
    assert state_at(p, instants[-1]) == (JobStatus.PROCESSING, 5)
    assert final_at(p) is None


def test_failing_job_ends_in_fail_at_its_fail_point() -> None:
    p = plan(created_at=T0, slot_free_at=T0, duration=10.0, timeout=900, fail_at=40, error="nsfw")
    instants = changes(p, T0)
    assert state_at(p, instants[-1]) == (JobStatus.FAIL, 40)
    assert next_change(p, instants[-1]) is None


def test_instant_job_has_no_change_after_creation() -> None:
    p = plan(created_at=T0, slot_free_at=T0, duration=0.0, timeout=900)
    assert state_at(p, T0) == (JobStatus.DONE, 100)
    assert next_change(p, T0) is None


@given(
    duration=st.floats(min_value=0.01, max_value=1000, allow_nan=False),
    wait=st.floats(min_value=0, max_value=100, allow_nan=False),
    offset=st.floats(min_value=0, max_value=1, allow_nan=False),
    fail_at=st.none() | st.integers(0, 99),
)
def test_next_change_is_exactly_the_first_instant_of_a_new_state(
    duration: float, wait: float, offset: float, fail_at: int | None
) -> None:
    p = plan(created_at=T0, slot_free_at=T0 + wait, duration=duration, timeout=900, fail_at=fail_at, error="x")
    after = T0 + offset * (wait + duration)
    nxt = next_change(p, after)
    if nxt is None:
        assert state_at(p, after)[0].terminal
        return
    assert nxt > after
    assert state_at(p, nxt) != state_at(p, after)
    just_before = math.nextafter(nxt, -math.inf)
    assert just_before <= after or state_at(p, just_before) == state_at(p, after)
