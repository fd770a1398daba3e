"""A drift report as a table, JSON and JUnit: severities, counts, pacing and notes."""

from __future__ import annotations

import json

from contracts.drift.findings import Finding, collapse, finding
from contracts.drift.report import DriftReport, as_json, junit_xml, render_table
from mock_server import JobPace, KindPace, Pacing

REMOVED = finding("field-removed", "#3 GET /x", "/images", None, ["u"], "#/a", True, "the upstream left out 'images'")
BROKEN = finding("contract", "#4 GET /x", "/progress", 10, ">= 30", "progress_never_decreases", False, "went back")


def pacing() -> Pacing:
    return Pacing({"imagine": KindPace("imagine", (JobPace(0.0, 6.0, "DONE", (20, 40)), JobPace(1.0, 8.0, "DONE")))})


def test_the_table_shows_notes_pacing_rows_and_counts() -> None:
    report = DriftReport([BROKEN, REMOVED], pacing(), "rec.har", notes=["rec.har was cut short"])
    table = render_table(report)
    assert table.startswith("rec.har was cut short")
    assert "imagine  2     0.5 s (0.0-1.0)  7.0 s (6.0-8.0)" in table
    assert "yes" in next(line for line in table.splitlines() if "field-removed" in line)
    assert "1 error, 1 warning finding(s)" in table
    assert "error: #4 GET /x /progress: went back" in table


def test_json_holds_findings_and_pacing_and_junit_fails_on_the_chosen_severities() -> None:
    document = json.loads(as_json(DriftReport([REMOVED], pacing())))
    assert document["findings"][0]["inferred"] is True
    assert document["pacing"][0]["done_s"] == {"median": 7.0, "min": 6.0, "max": 8.0}
    assert 'failures="0"' in junit_xml([REMOVED])  # a warning: a failure only with --fail-on warning
    assert 'failures="1"' in junit_xml([REMOVED], frozenset({"error", "warning"}))
    assert 'failures="1"' in junit_xml([BROKEN])
    assert "no drift" in junit_xml([])


def test_the_same_difference_on_many_exchanges_is_one_finding_with_its_count() -> None:
    again = finding("field-removed", "#9 GET /x", "/images", None, ["u"], "#/a", True, "the upstream left out 'images'")
    merged = collapse([REMOVED, again, BROKEN, BROKEN])
    assert [(f.kind, f.exchanges) for f in merged] == [("contract", 1), ("contract", 1), ("field-removed", 2)]
    assert "(+1 more)" in render_table(DriftReport(merged, Pacing()))


def test_an_empty_recording_says_so() -> None:
    assert "no job was created" in render_table(DriftReport([], Pacing()))
    assert isinstance(REMOVED, Finding)
