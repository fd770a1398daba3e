"""``flux-mock drift FILE.har``: the recording judged on its own, then compared with the mock like with like.

The recorded requests are sent to an in-process mock on a `VirtualClock` that follows the recorded arrival times;
the upstream's messageIds are mapped to the mock's as creates are answered, so polls, buttons and image downloads
of a recorded job reach the mock's twin of it. Before each exchange about a job, the twin is put in the state the
recording showed (a DONE poll is compared with the twin in DONE, a FAIL with FAIL, a button pressed on a DONE
grid with the twin grid DONE), so differences in pacing never show up as field findings; they are one ``pacing``
info per job kind instead, the recording's figures against what the mock's plans say.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

from contracts.core.schema import contract
from contracts.drift.compare import VOLATILE, Answer, compare
from contracts.drift.findings import SEVERITIES, Finding, collapse
from contracts.drift.pacing import pacing_findings
from contracts.drift.recording import judge, label
from contracts.drift.report import DriftReport
from mock_server import (
    HarEntry,
    JobPace,
    KindPace,
    Operations,
    Pacing,
    RecordedJob,
    RecordedPoll,
    Settings,
    VirtualClock,
    create_app,
    option,
    recorded_jobs,
    setting_option,
)

AGAINST = "the mock"


@dataclass(frozen=True, slots=True)
class DriftOptions:
    """What ``flux-mock drift`` takes besides the recording(s)."""

    job_seconds: float = field(
        default=3.0,
        metadata=setting_option(
            "job_seconds",
            "How long a job takes on the in-process mock the recording is replayed against (its pacing finding "
            "compares this with the recording's).",
        ),
    )
    seed: int = field(default=0, metadata=setting_option("seed"))
    as_json: bool = field(default=False, metadata=option("Print the report as JSON instead of a table.", flag="--json"))
    fail_on: frozenset[str] = field(
        default=frozenset({"error"}),
        metadata=option(
            "Comma-separated severities (error, warning, info) that make the exit code 1. Errors: the recording "
            "breaks the contract, or the mock answers another status; warnings: differences worth a look; infos: "
            "pacing and headers.",
            metavar="SEVERITIES",
            separator=",",
            choices=SEVERITIES,
        ),
    )


def _force_values(poll: RecordedPoll) -> tuple[int | None, str | None]:
    """The progress and error to pin a twin with: the recorded ones where the mock can show them."""
    progress, body = poll.progress, poll.body
    error = body.get("error") if isinstance(body, dict) else None
    shown = progress if progress is not None and 0 <= progress <= 100 and poll.state != "DONE" else None
    return shown, error if isinstance(error, str) and error.strip() else None


class DriftRun:
    """Replays recorded entries against an in-process mock, each job's twin in the recorded state."""

    def __init__(self, entries: Sequence[HarEntry], *, job_seconds: float = 3.0, seed: int = 0) -> None:
        self.entries = list(entries)
        start = self.entries[0].started if self.entries else 1_700_000_000.0
        self.clock = VirtualClock(start=start)
        settings = Settings(job_seconds=job_seconds, seed=seed, webhook_transport="record")
        self.app = create_app(settings, clock=self.clock)
        self.control = self.app.state.control
        self.operations = Operations(contract())
        self.recorded: dict[str, RecordedJob] = recorded_jobs(self.entries, self.operations)
        self.twins: dict[str, str] = {}  # recorded messageId -> the mock's

    def _mapped(self, text: str) -> str:
        for recorded, mine in self.twins.items():
            text = text.replace(recorded, mine)
        return text

    async def run(self) -> list[Finding]:
        """Every finding: the recording's own breaks, then its differences from the mock, then pacing."""
        found = judge(self.entries, self.operations)
        transport = httpx.ASGITransport(self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            for index, entry in enumerate(self.entries):
                if entry.started > self.clock.now():
                    self.clock.advance(entry.started - self.clock.now())
                found += await self._exchange(client, index, entry)
        found += pacing_findings(Pacing.learn(self.entries, self.operations), self._mock_pacing(), AGAINST)
        return collapse(found)

    async def _exchange(self, client: httpx.AsyncClient, index: int, entry: HarEntry) -> list[Finding]:
        op = self.operations.classify(entry.method, entry.path)
        job = self.recorded.get(op.message_id or "")
        if job is not None and op.message_id not in self.twins and (job.created is not None or entry.status == 200):
            return []  # the mock has no twin of this job (its create was refused, or not recorded): nothing alike
        if op.role == "poll" and job is not None and self._unknown_state(job, index):
            return []  # a status outside the enum (its own error): no state of the mock's to compare with
        self._align(index, entry, op.role, op.message_id)
        headers = [(k, v) for k, v in entry.request_headers if k.lower() not in VOLATILE | {"host"}]
        # The recording's key was redacted (and is the upstream's); the mock accepts any Bearer key.
        headers = [(k, "Bearer sk-flux-mock-drift") if k.lower() == "authorization" else (k, v) for k, v in headers]
        path = self._mapped(entry.path) + (f"?{entry.query}" if entry.query else "")
        body = self._mapped(entry.request_body.decode("utf-8", "replace")).encode() if entry.request_body else b""
        answer = Answer.of(await client.request(entry.method, path, headers=headers, content=body))
        recorded = Answer.recorded(entry)
        if op.role == "create" and isinstance(recorded.body, dict) and isinstance(answer.body, dict):
            theirs, ours = recorded.body.get("messageId"), answer.body.get("messageId")
            if isinstance(theirs, str) and isinstance(ours, str) and theirs not in self.twins:
                self.twins[theirs] = ours
        template = contract().operation(op.operation_id).path if op.operation_id else entry.path
        request = label(index, entry, op.operation_id)
        return compare(request, op.operation_id, (entry.method, template), recorded, answer, against=AGAINST)

    @staticmethod
    def _unknown_state(job: RecordedJob, index: int) -> bool:
        poll = next((p for p in job.polls if p.index == index), None)
        body = poll.body if poll is not None else None
        return poll is not None and poll.status == 200 and isinstance(body, dict) and poll.state is None

    def _align(self, index: int, entry: HarEntry, role: str, message_id: str | None) -> None:
        """Put the twins this exchange is about in the state the recording showed (a poll: its own answer's; a
        button or an extend: what the last poll of its target showed)."""
        if role == "poll" and message_id is not None:
            job = self.recorded.get(message_id)
            poll = next((p for p in job.polls if p.index == index), None) if job is not None else None
            self._pin(message_id, poll)
        elif role == "create":
            sent = entry.request_json()
            target = sent.get("messageId") if isinstance(sent, dict) else None
            job = self.recorded.get(target) if isinstance(target, str) else None
            if job is not None:
                self._pin(job.message_id, job.state_before(index))

    def _pin(self, message_id: str, poll: RecordedPoll | None) -> None:
        twin = self.twins.get(message_id)
        if twin is None or poll is None or poll.state is None:
            return
        progress, error = _force_values(poll)
        self.control.force(twin, poll.state, progress, error)

    def _mock_pacing(self) -> dict[str, KindPace]:
        """What the mock's plans say of the twins' pacing, per kind (forcing changes what polls show, not plans)."""
        found: dict[str, list[JobPace]] = {}
        for recorded_id, twin in self.twins.items():
            kind = self.recorded[recorded_id].kind if recorded_id in self.recorded else None
            if kind is None:
                continue
            plan = self.control.job(twin).plan
            ends = math.isfinite(plan.ends_at)
            found.setdefault(kind, []).append(
                JobPace(
                    plan.starts_at - plan.created_at,
                    plan.ends_at - plan.created_at if ends else None,
                    plan.outcome.value if ends else None,
                )
            )
        return {kind: KindPace(kind, tuple(jobs)) for kind, jobs in found.items()}


def drift(
    entries: Sequence[HarEntry], *, job_seconds: float = 3.0, seed: int = 0, source: str = "the recording"
) -> DriftReport:
    """The drift report of `entries` (a `load_har` result) against the mock; no findings when they agree."""
    findings = asyncio.run(DriftRun(entries, job_seconds=job_seconds, seed=seed).run())
    operations = Operations(contract())
    return DriftReport(findings, Pacing.learn(entries, operations), source, AGAINST)
