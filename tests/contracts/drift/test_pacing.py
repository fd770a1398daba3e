"""Pacing findings: one info per job kind that differs beyond the tolerance, never per field."""

from __future__ import annotations

from contracts.drift.pacing import figures, pacing_findings, render_pacing
from mock_server import JobPace, KindPace, Pacing


def kind(name: str, *ended: float, queued: float = 0.0, outcome: str = "DONE") -> KindPace:
    return KindPace(name, tuple(JobPace(queued, e, outcome, (25, 50, 75)) for e in ended))


def test_a_kind_paced_alike_within_the_tolerance_has_no_finding() -> None:
    recorded = Pacing({"imagine": kind("imagine", 6.0, 6.4), "mj-imagine": kind("mj-imagine", 40.0)})
    mock = {"imagine": kind("imagine", 6.5), "mj-imagine": kind("mj-imagine", 36.5)}  # 0.3 s and 3.5 s (< 10 %)
    assert pacing_findings(recorded, mock, "the mock") == []


def test_a_kind_paced_differently_is_one_info_finding_with_both_figures() -> None:
    recorded = Pacing({"imagine": kind("imagine", 12.0, 14.0, queued=2.0), "button": kind("button", 3.0)})
    (found,) = pacing_findings(recorded, {"imagine": kind("imagine", 3.0), "upscale": kind("upscale", 3.0)}, "the mock")
    assert (found.kind, found.severity, found.request, found.rule) == ("pacing", "info", "kind imagine", "pacing")
    assert found.recorded == "DONE after 13.0 s (12.0-14.0), queued 2.0 s (2 jobs)"
    assert found.reference == "DONE after 3.0 s, queued 0.0 s"
    assert "--pace-from" in found.message


def test_a_kind_that_fails_upstream_and_finishes_on_the_mock_differs() -> None:
    recorded = Pacing({"imagine": kind("imagine", 5.0, outcome="FAIL")})
    (found,) = pacing_findings(recorded, {"imagine": kind("imagine", 5.0)}, "old.har")
    assert "FAIL after 5.0 s" in found.recorded
    assert "--pace-from" not in found.message  # against another recording there is nothing to pace


def test_the_table_and_the_figures() -> None:
    pacing = Pacing({"imagine": kind("imagine", 6.0, 7.0)})
    table = render_pacing(pacing, "rec.har")
    assert "imagine  2     0.0 s   6.5 s (6.0-7.0)  -        3                     25" in table
    assert figures(pacing.kinds["imagine"])["progress_step"] == 25
