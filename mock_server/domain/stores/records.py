"""Jobs as a Redis store holds them: the job's inputs, not its plan.

A record is a hash: ``d`` the draft (every field the create decided, its `Timing`, progress step and creation
instant, as JSON), ``s`` when the account's slot freed up, ``n`` the arrival number, and, once the admin API
forced its state, ``f`` (the forced snapshot) and ``v`` (how often it was forced or released). The plan is a
pure function of the draft and ``s`` (`jobs.plan_job`), so it is derived on load, never stored twice, and the
store's script can write a new job in the same step that books its slot.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson

from mock_server.domain.jobs import Job, Timing, plan_job
from mock_server.domain.lifecycle import JobStatus, Snapshot

_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(Job)
    if f.name not in ("message_id", "plan", "seq", "timing", "forced", "version", "final_body")
)


def draft(*, created_at: float, timing: Timing, progress_step: int, fields: Mapping[str, Any]) -> bytes:
    """A new job's draft: `fields` (kind, account, timeout and the rest) with what its plan is made from."""
    record = {name: fields[name] for name in _FIELDS if name in fields}
    # orjson writes the Timing dataclass itself: `dataclasses.asdict` deep-copies, a tenth of a create's CPU.
    record |= {"timing": timing, "created_at": created_at, "progress_step": progress_step}
    return orjson.dumps(record)


def draft_of(job: Job) -> bytes:
    """The draft `job` was made from."""
    assert job.timing is not None
    fields = {name: getattr(job, name) for name in _FIELDS}
    return draft(created_at=job.plan.created_at, timing=job.timing, progress_step=job.plan.progress_step, fields=fields)


def forced_fields(job: Job) -> dict[str, str]:
    """The hash fields of a job's forced state (an empty ``f``: released)."""
    f = job.forced
    forced = "" if f is None else orjson.dumps([f.status.value, f.progress, f.updated_at, f.error]).decode()
    return {"f": forced, "v": str(job.version)}


def load_job(message_id: str, record: Mapping[str, str]) -> Job | None:
    """The job a record describes; None for a record without a draft (it expired while being forced)."""
    if "d" not in record:
        return None
    values = orjson.loads(record["d"])
    timing = Timing(**values.pop("timing"))
    created_at, step = values.pop("created_at"), values.pop("progress_step")
    for name in ("buttons", "content", "art"):  # JSON arrays back to the tuples the job holds
        if values.get(name) is not None:
            values[name] = tuple(values[name])
    plan = plan_job(created_at, float(record["s"]), values["timeout"], timing, step)
    job = Job(message_id, plan=plan, seq=int(record.get("n", 0)), timing=timing, **values)
    if record.get("f"):
        status, progress, updated_at, error = orjson.loads(record["f"])
        job.forced = Snapshot(JobStatus(status), progress, updated_at, error)
    job.version = int(record.get("v", 0))
    return job
