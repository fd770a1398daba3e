"""``flux-mock drift OLD.har NEW.har``: a recording compared with an older one (the real API last month vs today).

No mock is involved. The newer recording is judged on its own (`contracts.drift.recording`), and each of its
answers is compared with the older recording's answer to the same situation:

- a poll with the first poll of the same job kind, on the same path, showing the same status (a DONE Flux poll
  with a DONE Flux poll);
- any other request with the first one of the same operation and the same body (messageIds left out), else
  with the first one of the same operation that got the same HTTP status.

Answers with no counterpart are not compared (``drift OLD.har`` judges the older recording on its own). Pacing
differences are one ``info`` finding per job kind, as against the mock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from contracts.core.schema import contract
from contracts.drift.compare import Answer, compare
from contracts.drift.findings import Finding, collapse
from contracts.drift.pacing import pacing_findings
from contracts.drift.recording import judge, label
from contracts.drift.report import DriftReport
from mock_server import HarEntry, Operations, Pacing, RecordedJob, recorded_jobs

Key = tuple[object, ...]


def _canonical(raw: bytes, jobs: dict[str, RecordedJob]) -> str:
    """A request body without its messageIds, keys sorted: the same request in either recording reads the same."""
    text = raw.decode("utf-8", "replace")
    for message_id in jobs:
        text = text.replace(message_id, "<messageId>")
    try:
        return json.dumps(json.loads(text), sort_keys=True) if text else ""
    except ValueError:
        return text


def _keys(index: int, entry: HarEntry, ops: Operations, jobs: dict[str, RecordedJob]) -> tuple[Key, Key] | None:
    """(exact, loose) situation keys of one exchange; None for downloads and paths outside the API."""
    op = ops.classify(entry.method, entry.path)
    if op.role in ("download", "other"):
        return None
    template = contract().operation(op.operation_id).path if op.operation_id else entry.path
    if op.role == "poll":
        job = jobs.get(op.message_id or "")
        poll = next((p for p in job.polls if p.index == index), None) if job is not None else None
        state = poll.state if poll is not None else None
        loose: Key = (entry.method, template, job.kind if job is not None else None, state, entry.status)
        created = job.request if job is not None else None
        return (*loose, json.dumps(created, sort_keys=True, default=str)), loose
    sent = entry.request_json()
    target = jobs.get(str(sent.get("messageId"))) if isinstance(sent, dict) else None  # a button's or an extend's
    known = target.state_before(index) if target is not None else None
    exact: Key = (entry.method, template, _canonical(entry.request_body, jobs), known.state if known else None)
    return exact, (entry.method, template, entry.status)


def compare_recordings(
    old: Sequence[HarEntry], new: Sequence[HarEntry], *, old_source: str = "OLD.har", new_source: str = "NEW.har"
) -> DriftReport:
    """The drift report of `new` against `old` (both `load_har` results)."""
    ops = Operations(contract())
    old_jobs, new_jobs = recorded_jobs(old, ops), recorded_jobs(new, ops)
    exact: dict[Key, HarEntry] = {}
    loose: dict[Key, HarEntry] = {}
    for index, entry in enumerate(old):
        keys = _keys(index, entry, ops, old_jobs)
        if keys is not None:
            exact.setdefault(keys[0], entry)
            loose.setdefault(keys[1], entry)
    found: list[Finding] = judge(new, ops)
    for index, entry in enumerate(new):
        keys = _keys(index, entry, ops, new_jobs)
        reference = None if keys is None else exact.get(keys[0]) or loose.get(keys[1])
        if keys is None or reference is None:
            continue
        op = ops.classify(entry.method, entry.path)
        template = contract().operation(op.operation_id).path if op.operation_id else entry.path
        request = label(index, entry, op.operation_id)
        pair = (Answer.recorded(entry), Answer.recorded(reference))
        found += compare(request, op.operation_id, (entry.method, template), *pair, against=old_source)
    pacing = Pacing.learn(new, ops)
    found += pacing_findings(pacing, Pacing.learn(old, ops).kinds, old_source)
    return DriftReport(collapse(found), pacing, new_source, old_source)
