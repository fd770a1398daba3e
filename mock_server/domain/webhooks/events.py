"""When a job's visible state changes: pure functions of its `Plan`, for scheduling webhook events.

`lifecycle.snapshot(plan, now)` is pure, so the instants at which (status, progress) changes can be
computed rather than polled: the start (QUEUED -> PROCESSING), each progress step, and the end.
"""

from __future__ import annotations

import math

from mock_server.domain.lifecycle import JobStatus, Plan, snapshot

State = tuple[JobStatus, int]


def state_at(plan: Plan, now: float) -> State:
    """(status, progress) at `now`."""
    snap = snapshot(plan, now)
    return snap.status, snap.progress


def final_at(plan: Plan) -> float | None:
    """When the job becomes DONE or FAIL, or None if it never ends on its own (a stall)."""
    return plan.ends_at if math.isfinite(plan.ends_at) else None


def next_change(plan: Plan, after: float) -> float | None:
    """The first instant strictly after `after` at which (status, progress) differs from its value at `after`.

    None when nothing changes any more (terminal, or stalled for good).
    """
    current = state_at(plan, after)
    status, progress = current
    if status.terminal:
        return None
    if status is JobStatus.QUEUED:
        candidate = min(plan.starts_at, plan.ends_at)
    else:
        candidate = plan.ends_at
        shown_next = (progress // plan.progress_step + 1) * plan.progress_step  # the next value a poll can show
        if plan.duration > 0 and shown_next <= plan.progress_cap:
            step = plan.starts_at + plan.duration * shown_next / 100
            candidate = min(candidate, step)
    if not math.isfinite(candidate):
        return None
    candidate = max(candidate, math.nextafter(after, math.inf))
    # Floating point may put the computed instant a hair before the change; walk up to the exact one.
    for _ in range(64):
        if state_at(plan, candidate) != current:
            return candidate
        candidate = math.nextafter(candidate, math.inf)
    return candidate  # unreachable in practice: 64 ulps past the computed instant
