"""Jobs as JSON records, for a store outside this process: every field, with the plan, timing and forced state."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import orjson

from ..jobs import Job, Timing
from ..lifecycle import JobStatus, Plan, Snapshot

_SCALARS = tuple(f.name for f in dataclasses.fields(Job) if f.name not in ("plan", "timing", "forced", "final_body"))


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None  # JSON has no infinity: a stall never ends


def dump_job(job: Job) -> bytes:
    """The job as JSON bytes (the cached final body is left out: each worker renders its own)."""
    record: dict[str, Any] = {name: getattr(job, name) for name in _SCALARS}
    p = job.plan
    record["plan"] = [p.created_at, p.starts_at, p.duration, _number(p.ends_at), p.outcome.value, p.error]
    record["plan"] += [p.progress_cap, p.progress_step]
    record["timing"] = None if job.timing is None else dataclasses.asdict(job.timing)
    f = job.forced
    record["forced"] = None if f is None else [f.status.value, f.progress, f.updated_at, f.error]
    return orjson.dumps(record)


def load_job(data: bytes | str) -> Job:
    """The job a `dump_job` record describes."""
    record = orjson.loads(data)
    created, starts, duration, ends, outcome, error, cap, step = record.pop("plan")
    plan = Plan(created, starts, duration, math.inf if ends is None else ends, JobStatus(outcome), error, cap, step)
    timing = record.pop("timing")
    forced = record.pop("forced")
    for name in ("buttons", "content", "art"):  # JSON arrays back to the tuples the job holds
        if record.get(name) is not None:
            record[name] = tuple(record[name])
    job = Job(plan=plan, timing=None if timing is None else Timing(**timing), **record)
    if forced is not None:
        job.forced = Snapshot(JobStatus(forced[0]), forced[1], forced[2], forced[3])
    return job
