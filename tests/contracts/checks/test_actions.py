"""The checks on what Cancel Job, Vary (Region), a pressed button and the history must do: each passes a faithful
answer and names the rule when broken."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import checks
from contracts.checks.actions import stage_of

ID = "0c7d5a3e-4a0a-4a5e-9f0e-2b1f5a6c7d8e"
UPSCALED = ["Upscale (Subtle)", "Vary (Subtle)", "Vary (Strong)", "Vary (Region)", "Zoom Out 2x"]
GRID = ["U1", "U2", "U3", "U4", "\U0001f504", "V1", "V2", "V3", "V4"]


def fired(found: list[Any]) -> set[str]:
    return {f.check for f in found}


@pytest.mark.parametrize(
    ("button", "stage"),
    [
        ("U2", "upscale"),
        ("Upscale (Creative)", "upscale"),
        ("Upscale (4x)", "upscale"),
        ("Redo Upscale (2x)", "upscale"),  # the same upscale again: one image
        ("V1", "grid"),
        ("Zoom Out 2x", "grid"),
        ("Make Square", "grid"),
    ],
)
def test_each_button_leads_to_its_documented_stage(button: str, stage: str) -> None:
    assert stage_of(button) == stage


def test_a_pressed_button_must_lead_to_the_documented_stage() -> None:
    grid = {"messageId": ID, "status": "DONE", "images": ["a", "b", "c", "d"], "buttons": GRID}
    upscale = {"messageId": ID, "status": "DONE", "images": ["a"], "buttons": UPSCALED}
    assert checks.button_leads_to_stage(grid, "V2") == []
    assert checks.button_leads_to_stage(upscale, "U3") == []
    assert checks.button_leads_to_stage({"status": "PROCESSING"}, "V2") == []
    found = checks.button_leads_to_stage(upscale, "V2")
    assert fired(found) == {"button_leads_to_stage"}
    assert "grid" in found[0].message
    assert fired(checks.button_leads_to_stage(grid, "U1")) == {"button_leads_to_stage"}
    assert fired(checks.button_leads_to_stage({**upscale, "images": ["a", "b"]}, "U1")) == {"button_leads_to_stage"}


def test_cancel_answers_with_the_target_and_ends_it_at_its_progress() -> None:
    assert checks.cancel_answers_target(200, {"messageId": ID}, ID) == []
    assert fired(checks.cancel_answers_target(200, {"messageId": "other"}, ID)) == {"cancel_ends_job"}
    assert fired(checks.cancel_answers_target(409, {}, ID)) == {"cancel_ends_job"}
    ended = {"messageId": ID, "status": "FAIL", "error": "Job cancelled", "progress": 45}
    assert checks.cancel_ends_job(ended, 45) == []
    assert checks.cancel_ends_job({**ended, "progress": 60}, 45) == []  # it moved on before the press landed
    for broken in ({"status": "PROCESSING"}, {"error": None}, {"progress": 0}, {"progress": 100}):
        found = checks.cancel_ends_job({**ended, **broken}, 45)
        assert fired(found) == {"cancel_ends_job"}, broken


def test_cancel_after_the_end_and_vary_region_without_mask_are_refused() -> None:
    conflict = {"message": ["Cancel Job works only while a job is in progress"], "error": "Conflict", "statusCode": 409}
    assert checks.cancel_needs_running_target(409, conflict, status="DONE") == []
    found = checks.cancel_needs_running_target(200, {"messageId": ID}, status="DONE")
    assert fired(found) == {"cancel_needs_running_target"}
    assert "accepted Cancel Job on a job that is already DONE" in found[0].message
    bad = {"message": ["mask is required"], "error": "Bad Request", "statusCode": 400}
    assert checks.vary_region_needs_mask(400, bad) == []
    assert fired(checks.vary_region_needs_mask(200, {})) == {"vary_region_needs_mask"}


def test_history_lists_every_job_newest_first_with_type_and_button() -> None:
    a, b = ID, ID.replace("0c", "1c", 1)
    entries = [
        {"id": b, "type": "button", "button": "V1", "createdAt": "2025-06-15T15:06:41.000Z"},
        {"id": a, "type": "mj-imagine", "button": "", "createdAt": "2025-06-15T15:06:40.000Z"},
    ]
    made = [(a, "mj-imagine", ""), (b, "button", "V1")]
    assert checks.history_lists_jobs(entries, made) == []
    assert fired(checks.history_lists_jobs(entries[::-1], made)) == {"history_lists_jobs"}
    assert fired(checks.history_lists_jobs(entries[:1], made)) == {"history_lists_jobs"}
    found = checks.history_lists_jobs([{**entries[0], "button": ""}, entries[1]], made)
    assert fired(found) == {"history_lists_jobs"}
    assert "made by pressing 'V1'" in found[0].message


def _png(mode: str) -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new(mode, (2, 2)).save(out, "PNG")
    return out.getvalue()


def test_a_cutout_is_a_png_with_alpha() -> None:
    assert checks.png_has_alpha(_png("RGBA"), url="u") == []
    assert checks.png_has_alpha(_png("LA"), url="u") == []
    found = checks.png_has_alpha(_png("RGB"), url="u")
    assert fired(found) == {"png_has_alpha"}
    assert "colour type 2 without tRNS" in found[0].message
    assert "not a PNG" in checks.png_has_alpha(b"\xff\xd8\xff\xe0 jpeg", url="u")[0].message
