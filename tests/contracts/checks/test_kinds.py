"""The DONE shape of each job kind: each kind's checks hold on what the mock renders and fail on what breaks them."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import checks
from contracts.core.schema import contract

MID = "2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001"
ORIGIN = "e57fb09d-25f0-49f7-8f0f-2e902ffe9fdd"
CDN = "http://127.0.0.1:8080/storage/v1/object/public/cdn"
GRID = ["U1", "U2", "U3", "U4", "\U0001f504", "V1", "V2", "V3", "V4"]


def done(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messageId": MID,
        "status": "DONE",
        "progress": 100,
        "createdAt": "2026-02-22T07:43:37+00:00",
        "updatedAt": "2026-02-22T07:43:49+00:00",
    }
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


IMAGE = {"uri": f"{CDN}/{MID}.png", "images": [f"{CDN}/{MID}.png"]}
VIDEO = {
    "videoUrl": f"{CDN}/{MID}.mp4",
    "results": [{"url": f"{CDN}/{MID}.mp4", "index": 0}, {"url": f"{CDN}/{MID}-1.mp4", "index": 1}],
}
GOOD = {
    "mj-imagine": done(prompt="a cat", buttons=GRID, **IMAGE),
    "blend": done(buttons=GRID, **IMAGE),
    "button": done(prompt="a cat", buttons=["Upscale (Subtle)"], originatingMessageId=ORIGIN, **IMAGE),
    "describe": done(content=["1 a mountain lake", "2 an old library"]),
    "command": done(prompt="/fast", content=["fast mode on"]),
    "video": done(prompt="smooth motion transition", **VIDEO),
    "video-extend": done(originatingMessageId=ORIGIN, **VIDEO),
    "faceswap": done(**IMAGE),
    "remove-bg": done(**IMAGE),
}
BROKEN = [
    ("mj-imagine", {"buttons": None}, "done_has_buttons", "/buttons"),
    ("mj-imagine", {"buttons": ["U1", "U2"]}, "done_has_buttons", "/buttons"),
    ("blend", {"buttons": []}, "done_has_buttons", "/buttons"),
    ("button", {"originatingMessageId": None}, "follow_up_names_origin", "/originatingMessageId"),
    ("button", {"originatingMessageId": MID}, "follow_up_names_origin", "/originatingMessageId"),
    ("button", {"buttons": None}, "done_has_buttons", "/buttons"),
    ("describe", {"content": None}, "done_has_content", "/content"),
    ("describe", {"content": [" "]}, "done_has_content", "/content"),
    ("describe", {"uri": IMAGE["uri"]}, "done_has_content", "/uri"),
    ("video", {"results": None}, "done_has_video", "/results"),
    ("video", {"videoUrl": f"{CDN}/other.mp4"}, "done_has_video", "/videoUrl"),
    ("video", {"results": list(reversed(VIDEO["results"]))}, "done_has_video", "/results"),
    ("video", {"images": IMAGE["images"]}, "done_has_video", "/images"),
    ("video-extend", {"originatingMessageId": None}, "follow_up_names_origin", "/originatingMessageId"),
    ("faceswap", {"images": None}, "done_has_images", "/images"),
]


def test_every_job_kind_of_the_spec_has_a_done_shape() -> None:
    kinds = {op.job_kind for op in contract().by_role("create")}
    assert kinds == set(checks.SHAPES)
    with pytest.raises(ValueError, match=r"no DONE shape for job kind 'sketch'.*known: blend, button"):
        checks.done_shape("sketch")


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_what_the_mock_renders_passes_its_kinds_checks(kind: str) -> None:
    origin = ORIGIN if checks.done_shape(kind).follow_up else None
    assert checks.check_message(GOOD[kind], kind=kind, origin=origin) == []


@pytest.mark.parametrize(("kind", "change", "check", "pointer"), BROKEN)
def test_each_kind_rule_fails_with_its_pointer(kind: str, change: dict[str, Any], check: str, pointer: str) -> None:
    body = {k: v for k, v in {**GOOD[kind], **change}.items() if v is not None}
    origin = ORIGIN if checks.done_shape(kind).follow_up else None
    found = [f for f in checks.check_message(body, kind=kind, origin=origin) if f.check == check]
    assert found, body
    assert found[0].pointer == pointer
    assert found[0].message_id == MID


def test_flux_rules_are_not_applied_to_text_and_video_results() -> None:
    assert checks.check_message(GOOD["describe"]) != []  # judged as Flux: no images
    assert checks.check_message(GOOD["describe"], kind="describe") == []
    assert checks.any_kind(GOOD["video"]) == []
    assert checks.any_kind(GOOD["describe"]) == []
    assert checks.infer_shape(GOOD["video"]).result == "video"


def test_results_only_count_once_done() -> None:
    running = {**GOOD["describe"], "status": "PROCESSING", "progress": 30}
    running.pop("content")
    assert checks.check_message(running, kind="describe") == []


@pytest.mark.parametrize(
    ("status_code", "kwargs", "failing"),
    [
        (409, {"status": "PROCESSING"}, False),
        (200, {"status": "PROCESSING"}, True),
        (400, {"status": "QUEUED"}, True),
        (409, {"offered": GRID}, False),
        (200, {"offered": GRID}, True),
    ],
)
def test_button_refusals_must_be_409(status_code: int, kwargs: dict[str, Any], failing: bool) -> None:
    body = {"message": ["Message is PROCESSING"], "statusCode": status_code, "error": "Conflict"}
    found = checks.button_refused(status_code, body, operation="POST /api/v1/nova/button", **kwargs)
    assert bool(found) is failing
    if failing:
        assert found[0].check == "button_needs_done_target"
        assert found[0].expected == 409
        assert "create no job" in found[0].message


def test_credits_must_fall_by_the_cost() -> None:
    assert checks.credits_match_charges(1000, 988, 12) == []
    [unchanged] = checks.credits_match_charges(1000, 1000, 12, job=MID)
    assert unchanged.check == "credits_match_charges"
    assert (unchanged.pointer, unchanged.expected, unchanged.actual) == ("/credits", 988, 1000)
    assert "a change of +0" in unchanged.message
    assert checks.credits_match_charges(1000, None, 12)[0].actual is None
