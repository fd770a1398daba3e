"""Midjourney video: generate (four short MP4 results between two frames) and extend one result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.contract.problems import HttpError, Violation
from mock_server.domain.kinds.base import Fields, FollowUp, JobKind, common, priced
from mock_server.domain.lifecycle import JobStatus

RESULTS = 4  # results per video job (the count is undocumented; Midjourney makes four)
SIDE = 480  # pixels, square (the mock's choice)


def _generate(body: Mapping[str, Any]) -> Fields:
    prompt = body.get("prompt") or "smooth motion transition"
    return {
        **common(body),
        "kind": "video",
        "media": "video",
        "prompt": prompt,
        "n": RESULTS,
        "width": SIDE,
        "height": SIDE,
    }


def _extend(body: Mapping[str, Any]) -> Fields:
    return {
        **common(body),
        "kind": "video-extend",
        "media": "video",
        "n": RESULTS,
        "width": SIDE,
        "height": SIDE,
        "target": body["messageId"],
        "index": int(body["index"]),
    }


def _from_video(fields: Fields, context: FollowUp) -> Fields:
    target_id, index = str(fields.pop("target")), int(fields.pop("index"))
    target = context.job_of(target_id)
    if target is None:
        raise HttpError(404, "Message not found")
    snap = target.snapshot(context.now)
    if target.media != "video" or snap.status is not JobStatus.DONE or index >= target.n:
        what = "is not a video job" if target.media != "video" else f"is {snap.status.value}"
        if target.media == "video" and snap.status is JobStatus.DONE:
            what = f"has results 0..{target.n - 1}"
        message = f"Message {target_id} {what}; extend a DONE video job's result by its 0-based index."
        hint = "send the messageId of a DONE /video/mj/generate job and an index from its results"
        violation = Violation("body", "/messageId", "x-mock-video-target", "a DONE video job", target_id, message, hint)
        raise HttpError(409, [message], violations=(violation,))
    return {**fields, "origin": target_id, "prompt": target.prompt, "button": f"extend {index}"}


KINDS = (
    JobKind("video", _generate, priced("video")),
    JobKind("video-extend", _extend, priced("video-extend"), follow_up=_from_video),
)
