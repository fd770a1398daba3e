"""``flux-mock drift OLD.har NEW.har``: two recordings compared, with the same finding types, no mock involved."""

from __future__ import annotations

from recordings import Recordings

from contracts.drift.baseline import compare_recordings
from contracts.drift.report import render_table
from mock_server import load_har


def test_two_faithful_recordings_agree(recordings: Recordings) -> None:
    old = load_har(recordings.get())
    new = load_har(recordings.get(job_seconds=6.0, probes=False))
    report = compare_recordings(old, new, old_source="old.har", new_source="new.har")
    assert report.findings == [], render_table(report)
    assert "matches old.har's" in render_table(report)


def test_a_faster_upstream_is_one_pacing_info_per_kind(recordings: Recordings) -> None:
    report = compare_recordings(
        load_har(recordings.get()), load_har(recordings.get(job_seconds=3.0)), old_source="old.har"
    )
    assert {(f.kind, f.severity) for f in report.findings} == {("pacing", "info")}, render_table(report)
    imagine = next(f for f in report.findings if f.request == "kind imagine")
    assert "DONE after 3.0 s" in imagine.recorded
    assert "DONE after 6.0 s" in imagine.reference
    assert "old.har's" in imagine.message


def test_a_broken_new_recording_is_judged_and_compared_with_the_old_one(recordings: Recordings) -> None:
    report = compare_recordings(load_har(recordings.get()), load_har(recordings.get("done-without-images")))
    kinds = {(f.kind, f.severity, f.rule) for f in report.findings}
    assert ("contract", "error", "done_has_images") in kinds, render_table(report)
    removed = [f for f in report.findings if f.kind == "field-removed"]
    assert removed
    assert all(isinstance(f.reference, list) and f.pointer == "/images" for f in removed)  # the old DONE's images


def test_a_status_the_old_recording_did_not_answer_is_an_error(recordings: Recordings) -> None:
    old = load_har(recordings.get(job_seconds=3.0, probes=True))
    new = load_har(recordings.get("500-on-valid-body", job_seconds=3.0, probes=True))
    report = compare_recordings(old, new)
    status = [f for f in report.findings if f.kind == "status"]
    assert [(f.recorded, f.reference) for f in status] == [(500, 200)], render_table(report)
