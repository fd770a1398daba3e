"""``flux-mock drift FILE.har`` against the mock: like with like, the recording judged on its own, pacing as info."""

from __future__ import annotations

import pytest
from recordings import Recordings

from contracts.drift.findings import KINDS
from contracts.drift.replay import drift
from contracts.drift.report import render_table
from mock_server import load_har

FIELD_KINDS = {k for k, severity in KINDS.items() if severity == "warning"} | {"status"}


def test_a_faithful_recording_paced_unlike_the_mock_shows_only_pacing(recordings: Recordings) -> None:
    # Flux n=2, a Midjourney grid and U1 on it, from an upstream paced 6 s per job; the mock paces 3 s.
    report = drift(load_har(recordings.get()), seed=7)
    table = render_table(report)
    assert {f.kind for f in report.findings} == {"pacing"}, table
    assert not report.fails(frozenset({"error"}))
    paced = {f.request: f for f in report.findings}
    assert set(paced) == {"kind imagine", "kind mj-imagine", "kind button"}
    assert all(f.severity == "info" and f.inferred for f in paced.values())
    assert "DONE after 6.0 s" in paced["kind imagine"].recorded
    assert "DONE after 3.0 s" in paced["kind imagine"].reference
    assert "--pace-from" in paced["kind imagine"].message


def test_the_same_recording_against_a_mock_paced_alike_shows_no_drift(recordings: Recordings) -> None:
    report = drift(load_har(recordings.get()), job_seconds=6.0, seed=7)
    assert report.findings == [], render_table(report)
    assert "No drift" in render_table(report)


@pytest.mark.parametrize(
    ("mutant", "kind", "rule", "pointer"),
    [
        ("done-without-images", "contract", "done_has_images", "/images"),
        ("lowercase-statuses", "enum-not-in-spec", "#/components/schemas/Message/properties/status/enum", "/status"),
        ("progress-backwards", "contract", "progress_never_decreases", "/progress"),
    ],
)
def test_a_broken_recording_is_an_error_naming_the_rule_whatever_the_mock_does(
    recordings: Recordings, mutant: str, kind: str, rule: str, pointer: str
) -> None:
    report = drift(load_har(recordings.get(mutant)), job_seconds=6.0, seed=7)
    table = render_table(report)
    broken = [f for f in report.findings if (f.kind, f.rule, f.pointer) == (kind, rule, pointer)]
    assert broken, table
    assert all(f.severity == "error" and f.request.startswith("#") for f in broken)
    assert report.fails(frozenset({"error"}))
    # A state is compared with the same state: lowercase "done" is DONE, so the fields match.
    if mutant != "done-without-images":
        assert not [f for f in report.findings if f.kind in FIELD_KINDS], table


@pytest.mark.parametrize(
    ("mutant", "kind", "pointer", "rule"),
    [
        ("express-error-shape", "rule-broken", "", "#/components/schemas/Error/required"),
        ("express-error-shape", "contract", "/message", "error_has_nestjs_shape"),
        ("500-on-valid-body", "status", "", "#/paths/~1api~1v1~1flux~1imagine/post/responses/500"),
        ("500-on-valid-body", "contract", "", "not_a_server_error"),
        ("never-finishes", "contract", "/status", "finishes_within_timeout"),
        ("progress-101", "rule-broken", "/progress", "#/components/schemas/Message/properties/progress/maximum"),
    ],
)  # fmt: skip
def test_the_scripted_proxy_session_of_a_mutant_names_the_field_and_the_rule(
    recordings: Recordings, mutant: str, kind: str, pointer: str, rule: str
) -> None:
    report = drift(load_har(recordings.get(mutant, job_seconds=3.0, probes=True)), seed=7)
    assert [f for f in report.findings if (f.kind, f.pointer, f.rule) == (kind, pointer, rule)], render_table(report)


def test_the_faithful_scripted_session_with_its_error_probes_shows_no_drift(recordings: Recordings) -> None:
    # An early button press (409 naming each side's own messageId), unknown jobs, no key and invalid bodies.
    report = drift(load_har(recordings.get(job_seconds=3.0, probes=True)), seed=7)
    assert report.findings == [], render_table(report)


def test_a_field_the_mock_lacks_is_a_warning_on_the_same_state(recordings: Recordings) -> None:
    # The upstream's DONE lacks images: against the mock's DONE (not whatever the mock shows then) that is a
    # field-removed warning, beside the contract error.
    report = drift(load_har(recordings.get("done-without-images")), seed=7)
    removed = [f for f in report.findings if f.kind == "field-removed"]
    assert {f.pointer for f in removed} == {"/images"}
    assert all(f.severity == "warning" and f.exchanges == 3 and f.inferred for f in removed)
