"""The jobs a recording shows: each job's create and the polls that followed it, in recorded order.

``flux-mock drift`` compares like with like by them (a recorded DONE poll with the mock's job in DONE), and
``serve --pace-from`` learns each job kind's pacing from them. A job is known by the messageId its create
answered; a poll of a messageId the recording never created (made before recording started) is kept with
no kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mock_server.domain.lifecycle import JobStatus
from mock_server.domain.operations import Operations
from mock_server.domain.records.har import HarEntry

_STATES = frozenset(s.value for s in JobStatus)


@dataclass(frozen=True, slots=True)
class RecordedPoll:
    """One recorded answer about a job: a poll, or (for `RecordedJob.created`) its create.

    Attributes:
        index: the exchange's place in the recording (0-based, oldest first).
        at: its arrival time (the recording clock's, epoch seconds).
        status: the HTTP status.
        body: the answer parsed as JSON (None when it was not JSON).
    """

    index: int
    at: float
    status: int
    body: Any

    @property
    def state(self) -> str | None:
        """The Message status as a `JobStatus` value, case ignored ("done" is DONE); None for anything else."""
        if self.status != 200 or not isinstance(self.body, dict):
            return None
        status = self.body.get("status")
        upper = status.upper() if isinstance(status, str) else None
        return upper if upper in _STATES else None

    @property
    def progress(self) -> int | None:
        """The Message progress, when it is a whole number."""
        value = self.body.get("progress") if isinstance(self.body, dict) else None
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    def seconds(self, key: str) -> float | None:
        """A timestamp of the Message (``createdAt``, ``updatedAt``) as epoch seconds; None when it is not ISO 8601."""
        value = self.body.get(key) if isinstance(self.body, dict) else None
        if not isinstance(value, str):
            return None
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None


@dataclass(slots=True)
class RecordedJob:
    """One job as the recording shows it.

    Attributes:
        message_id: the upstream's messageId.
        kind: the job kind (``x-mock-kind: create:<kind>``) of the operation that made it; None when the recording
            does not hold its create.
        operation_id: that operation.
        created_at: arrival time of the create (of the first poll without one).
        created: the create exchange's index (None without one).
        request: the create's JSON body.
        polls: every poll of the job, oldest first.
    """

    message_id: str
    kind: str | None
    operation_id: str | None
    created_at: float
    created: int | None = None
    request: Any = None
    polls: list[RecordedPoll] = field(default_factory=list)

    def state_before(self, index: int) -> RecordedPoll | None:
        """The last poll before exchange `index` that showed a status (what a client knew of the job then)."""
        shown = [p for p in self.polls if p.index < index and p.state is not None]
        return shown[-1] if shown else None

    @property
    def final(self) -> RecordedPoll | None:
        """The first poll that showed DONE or FAIL."""
        return next((p for p in self.polls if p.state in ("DONE", "FAIL")), None)


def recorded_jobs(entries: Sequence[HarEntry], operations: Operations) -> dict[str, RecordedJob]:
    """Every job of a recording (`load_har` order), by messageId, in order of first appearance."""
    jobs: dict[str, RecordedJob] = {}
    for index, entry in enumerate(entries):
        op = operations.classify(entry.method, entry.path)
        if op.role == "create" and entry.status == 200:
            body = entry.response_json()
            message_id = body.get("messageId") if isinstance(body, dict) else None
            # Cancel Job answers with the job it cancelled: no new job.
            if isinstance(message_id, str) and message_id not in jobs:
                jobs[message_id] = RecordedJob(
                    message_id, op.job_kind, op.operation_id, entry.started, index, entry.request_json()
                )
        elif op.role == "poll" and op.message_id is not None:
            job = jobs.get(op.message_id)
            if job is None:
                job = jobs[op.message_id] = RecordedJob(op.message_id, None, None, entry.started)
            job.polls.append(RecordedPoll(index, entry.started, entry.status, entry.response_json()))
    return jobs
