"""The job state machine, as pure functions of (plan, now).

A job's whole future is decided when it is created (a `Plan`); what a client sees at
any instant is `snapshot(plan, now)`. Nothing here reads a clock, sleeps or does I/O, so
every transition is testable by passing a different `now`.

    QUEUED --(slot free)--> PROCESSING --(progress 0..99)--> DONE (100) | FAIL
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class JobStatus(StrEnum):
    """Message status values; a test pins them to the spec's enum."""

    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    DONE = "DONE"
    FAIL = "FAIL"

    @property
    def terminal(self) -> bool:
        """DONE and FAIL never change again."""
        return self in (JobStatus.DONE, JobStatus.FAIL)


TIMEOUT_ERROR = "Job timed out after {timeout} seconds"


class Plan(NamedTuple):
    """A job's timeline, fixed at creation.

    A named tuple rather than a frozen dataclass: every create builds one, and a frozen dataclass's
    ``__init__`` (one ``object.__setattr__`` per field) cost ~2 µs of a POST's ~80; a tuple is built in C.

    Attributes:
        created_at: when the job was accepted.
        starts_at: when it leaves QUEUED.
        duration: seconds of PROCESSING needed to reach 100 (0 means instant).
        ends_at: when it becomes DONE or FAIL (math.inf: never).
        outcome: DONE or FAIL, reached at ends_at.
        error: the FAIL message.
        progress_cap: the highest progress shown while PROCESSING (99, or lower for a stall).
        progress_step: progress is shown in multiples of this (1 for Flux; Midjourney jumps in larger steps).
    """

    created_at: float
    starts_at: float
    duration: float
    ends_at: float
    outcome: JobStatus
    error: str | None = None
    progress_cap: int = 99
    progress_step: int = 1


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a client sees at one instant."""

    status: JobStatus
    progress: int
    updated_at: float
    error: str | None = None


def plan(
    created_at: float,
    slot_free_at: float,
    duration: float,
    timeout: float,
    queued_extra: float = 0.0,
    fail_at: int | None = None,
    error: str | None = None,
    stall_at: int | None = None,
    honour_timeout: bool = True,
    progress_step: int = 1,
) -> Plan:
    """Decide a job's timeline.

    Args:
        created_at: now, at submission.
        slot_free_at: when the account's next concurrency slot frees up (<= created_at if free now).
        duration: processing seconds from 0 to 100.
        timeout: the request's timeout; a job still unfinished at created_at + timeout FAILs.
        queued_extra: extra seconds held in QUEUED (scenarios).
        fail_at: FAIL when progress reaches this value (0..99) instead of finishing.
        error: the FAIL message for fail_at.
        stall_at: progress freezes at this value and the job never finishes on its own.
        honour_timeout: False lets a stalled job stall past its timeout.
        progress_step: show progress in multiples of this (1..50).
    """
    starts_at = (created_at if created_at >= slot_free_at else slot_free_at) + queued_extra
    outcome, cap, message = JobStatus.DONE, 99, None
    if fail_at is None and stall_at is None:  # most jobs: no call for the run length
        ends_at = starts_at + duration
    else:
        if fail_at is not None:
            outcome, message, cap = JobStatus.FAIL, error or "Generation failed", fail_at
        if stall_at is not None:
            outcome, cap = JobStatus.FAIL, stall_at
        ends_at = starts_at + run_length(duration, fail_at, stall_at)
    deadline = created_at + timeout
    if honour_timeout and ends_at > deadline:
        outcome, ends_at, message = JobStatus.FAIL, deadline, TIMEOUT_ERROR.format(timeout=int(timeout))
    # tuple.__new__ builds it in C; Plan(...) would go through the named tuple's Python __new__.
    return _new_tuple(Plan, (created_at, starts_at, duration, ends_at, outcome, message, cap, progress_step))


_new_tuple = tuple.__new__


def run_length(duration: float, fail_at: int | None, stall_at: int | None) -> float:
    """Seconds from leaving QUEUED to the planned end, before the timeout cuts it (math.inf: never ends).

    So ``ends_at == min(max(created_at, slot_free_at) + queued_extra + run_length, deadline)`` (added in that
    order): what a shared store needs to book an account's slot atomically without planning the job itself.
    """
    if stall_at is not None:
        return math.inf
    return duration * fail_at / 100 if fail_at is not None else duration


def _progress_at(p: Plan, now: float, *, stepped: bool = True) -> int:
    elapsed = now - p.starts_at
    if p.duration <= 0 or elapsed >= p.duration:
        raw = p.progress_cap
    else:
        raw = min(p.progress_cap, max(0, math.floor(elapsed / p.duration * 100)))
    # While PROCESSING progress moves in steps; a FAIL shows exactly where it failed.
    return raw - raw % p.progress_step if stepped and p.progress_step > 1 else raw


def snapshot(p: Plan, now: float) -> Snapshot:
    """The job's state at `now`: a pure function, monotonic in `now`."""
    if now < p.starts_at and now < p.ends_at:
        return Snapshot(JobStatus.QUEUED, 0, p.created_at)
    if now >= p.ends_at:
        if p.outcome is JobStatus.DONE:
            return Snapshot(JobStatus.DONE, 100, p.ends_at)
        progress = _progress_at(p, p.ends_at, stepped=False) if p.ends_at >= p.starts_at else 0
        return Snapshot(JobStatus.FAIL, progress, p.ends_at, p.error)
    progress = _progress_at(p, now)
    reached = p.starts_at + (p.duration * progress / 100 if p.duration > 0 else 0.0)
    return Snapshot(JobStatus.PROCESSING, progress, max(p.starts_at, reached))
