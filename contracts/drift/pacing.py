"""Pacing in a drift report: what a recording shows per job kind, and one ``info`` finding per kind that differs.

The figures come from `mock_server.Pacing` (the same ones ``serve --pace-from`` paces new jobs with): seconds in
QUEUED, to DONE and to FAIL (median and range over the recorded jobs), and the progress values seen. Pacing is
never a field finding: a recorded DONE is compared with the mock's job in DONE, however long each took.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.drift.findings import Finding, finding
from mock_server import KindPace, Pacing, Spread

# Differences smaller than this are the same pacing: the larger of 0.5 s and a tenth of the longer figure.
TOLERANCE_S, TOLERANCE = 0.5, 0.1


def _figure(spread: Spread | None) -> float | None:
    return None if spread is None else round(spread.median, 1)


def figures(pace: KindPace) -> dict[str, Any]:
    """One kind's figures as plain values (the JSON report's ``pacing``)."""

    def spread(s: Spread | None) -> dict[str, float] | None:
        return None if s is None else {"median": round(s.median, 2), "min": round(s.low, 2), "max": round(s.high, 2)}

    return {
        "kind": pace.kind,
        "jobs": len(pace.jobs),
        "queued_s": spread(pace.queued),
        "done_s": spread(pace.done),
        "fail_s": spread(pace.failed),
        "progress_values": spread(pace.steps),
        "progress_step": pace.step,
    }


def _differ(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is not b
    return abs(a - b) > max(TOLERANCE_S, TOLERANCE * max(a, b))


def _summary(pace: KindPace) -> str:
    ended = [f"DONE after {pace.done}" if pace.done else "", f"FAIL after {pace.failed}" if pace.failed else ""]
    said = ", ".join(e for e in ended if e) or "never seen to end"
    return f"{said}, queued {pace.queued}" if pace.queued else said


def pacing_findings(recorded: Pacing, reference: Mapping[str, KindPace], against: str) -> list[Finding]:
    """One ``info`` finding per job kind whose queue time or time to DONE/FAIL differs from the reference's."""
    found = []
    for kind in sorted(set(recorded.kinds) & set(reference)):
        theirs, ours = recorded.kinds[kind], reference[kind]
        pairs = [(theirs.queued, ours.queued), (theirs.done, ours.done), (theirs.failed, ours.failed)]
        if not any(_differ(_figure(a), _figure(b)) for a, b in pairs):
            continue
        jobs = len(theirs.jobs)
        counted = f"{jobs} job{'s' if jobs != 1 else ''}"
        said = f"{kind} jobs end {_summary(theirs)} in the recording ({counted}); {against}'s {_summary(ours)}"
        if against == "the mock":
            said += "; flux-mock serve --pace-from the recording paces the mock like it"
        found.append(
            finding(
                "pacing",
                f"kind {kind}",
                "",
                f"{_summary(theirs)} ({counted})",
                _summary(ours),
                "pacing",
                True,  # no document says how long a job takes: every figure is the mock's guess
                said,
            )
        )
    return found


def _count(s: Spread) -> str:
    return f"{s.median:g}" if s.low == s.high else f"{s.median:g} ({s.low:g}-{s.high:g})"


def render_pacing(pacing: Pacing, source: str) -> str:
    """The pacing table of one recording (seconds from each job's create; median, range in parentheses)."""
    if not pacing.kinds:
        return f"Pacing in {source}: no job was created in the recording."
    rows = [("kind", "jobs", "queued", "to DONE", "to FAIL", "progress values seen", "step")]
    for kind in sorted(pacing.kinds):
        pace = pacing.kinds[kind]
        steps = pace.steps
        rows.append(
            (
                kind,
                str(len(pace.jobs)),
                str(pace.queued or "-"),
                str(pace.done or "-"),
                str(pace.failed or "-"),
                "-" if steps is None else _count(steps),
                "-" if pace.step is None else str(pace.step),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([f"Pacing in {source} (seconds from each job's create; median, range in parentheses):", *lines])
