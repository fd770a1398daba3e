"""A drift run's result (`DriftReport`) and its three forms: a table, JSON and JUnit XML."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from contracts.drift.findings import SEVERITIES, Finding
from contracts.drift.pacing import figures, render_pacing
from mock_server import Pacing


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Everything ``flux-mock drift`` found.

    Attributes:
        findings: errors first, then warnings, then infos.
        pacing: what the (newer) recording shows per job kind.
        source: the (newer) recording's name.
        against: what its answers were compared with: ``the mock`` or the older recording's name.
        notes: what reading the recordings showed (a file cut short by a crash).
    """

    findings: list[Finding]
    pacing: Pacing
    source: str = "the recording"
    against: str = "the mock"
    notes: list[str] = field(default_factory=list)

    def fails(self, severities: frozenset[str]) -> bool:
        """Whether any finding has one of `severities` (``--fail-on``)."""
        return any(f.severity in severities for f in self.findings)


def render_table(report: DriftReport) -> str:
    """A readable report: the notes, the pacing table, then one finding a row and the counts."""
    parts = [*report.notes, render_pacing(report.pacing, report.source), ""]
    findings = report.findings
    if not findings:
        return "\n".join(
            [*parts, f"No drift: every recorded answer keeps the contract and matches {report.against}'s."]
        )
    reference = "expected"
    rows: list[tuple[str, ...]] = [
        ("severity", "kind", "request", "pointer", "recorded", reference, "rule", "inferred")
    ]
    for f in findings:
        shown = [json.dumps(v, default=str)[:40] for v in (f.recorded, f.reference)]
        request = f.request if f.exchanges == 1 else f"{f.request} (+{f.exchanges - 1} more)"
        rows.append((f.severity, f.kind, request, f.pointer or "/", *shown, f.rule, "yes" if f.inferred else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
    said = [f"{f.severity}: {f.request}{' ' + f.pointer if f.pointer else ''}: {f.message}" for f in findings]
    total = ", ".join(f"{n} {s}" for s, n in counts.items() if n) + " finding(s)"
    return "\n".join([*parts, *lines, "", *said, "", total])


def as_json(report: DriftReport) -> str:
    """The report as JSON: ``{"source", "against", "notes", "pacing": [...], "findings": [...]}``."""
    document = {
        "source": report.source,
        "against": report.against,
        "notes": report.notes,
        "pacing": [figures(report.pacing.kinds[k]) for k in sorted(report.pacing.kinds)],
        "findings": [asdict(f) for f in report.findings],
    }
    return json.dumps(document, indent=2, default=str)


def junit_xml(findings: Sequence[Finding], fail_on: frozenset[str] = frozenset({"error"})) -> str:
    """A JUnit report: one test case a finding (failed when its severity is in `fail_on`), or one passing case."""
    from xml.etree import ElementTree as ET

    suite = ET.Element("testsuite", name="flux-mock drift", tests=str(max(1, len(findings))))
    failures = 0
    for f in findings:
        case = ET.SubElement(suite, "testcase", classname=f.kind, name=f"{f.request} {f.pointer}")
        if f.severity in fail_on:
            failures += 1
            failure = ET.SubElement(case, "failure", message=f.message, type=f.kind)
            failure.text = (
                f"rule {f.rule} (x-inferred: {f.inferred}); recorded {f.recorded!r}, reference {f.reference!r}"
            )
        else:
            ET.SubElement(case, "system-out").text = f"{f.severity}: {f.message}"
    if not findings:
        ET.SubElement(suite, "testcase", classname="drift", name="no drift")
    suite.set("failures", str(failures))
    return ET.tostring(suite, encoding="unicode")
