"""Midjourney buttons: which a message offers when DONE, and what pressing one makes.

- A grid (imagine, reroll, variations, blend, zoom, pan, vary) offers U1-U4, the reroll and V1-V4.
- U1-U4 make an upscale: quadrant i of that grid as one image, offering the upscaled stage's buttons
  (Upscale Subtle/Creative, Vary Subtle/Strong/Region, both zooms, the four pans, and Make Square when the
  image is not square), as Midjourney's own UI does.
- Variations, the reroll, zooms, pans, Vary and Make Square make a new grid; upscale buttons a larger image.
- ``Cancel Job`` makes nothing: it ends the target (not yet DONE) as FAIL "Job cancelled".

A button the target does not offer, or a target that is not DONE, is a 409 naming what it offers: the
request is valid, the message's state refuses it (so a schema-valid request is never answered "invalid").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.contract.problems import HttpError, Violation
from mock_server.domain.kinds.base import Fields, FollowUp, JobKind, common, priced
from mock_server.domain.lifecycle import JobStatus

REROLL = "\U0001f504"
PANS = ("\u2b05\ufe0f", "\u27a1\ufe0f", "\u2b06\ufe0f", "\u2b07\ufe0f")
GRID_BUTTONS = ("U1", "U2", "U3", "U4", REROLL, "V1", "V2", "V3", "V4")
CANCEL = "Cancel Job"
CANCELLED = "Job cancelled"
VARY_REGION = "Vary (Region)"
_UPSCALE_FACTORS = {
    "Upscale (Subtle)": 2,
    "Upscale (Creative)": 2,
    "Upscale (2x)": 2,
    "Redo Upscale (2x)": 2,
    "Upscale (4x)": 4,
    "Redo Upscale (4x)": 4,
}
MAX_SIDE = 4096


def upscaled_buttons(width: int, height: int) -> tuple[str, ...]:
    """What an upscaled image offers."""
    square = () if width == height else ("Make Square",)
    return (
        "Upscale (Subtle)",
        "Upscale (Creative)",
        "Vary (Subtle)",
        "Vary (Strong)",
        VARY_REGION,
        "Zoom Out 2x",
        "Zoom Out 1.5x",
        *PANS,
        *square,
    )


def _fields(body: Mapping[str, Any]) -> Fields:
    return {
        **common(body),
        "kind": "button",
        "button": body["button"],
        "target": body["messageId"],
        "remix": body.get("prompt"),
    }


def _refuse(message: str, pointer: str, value: object, expected: object, hint: str) -> HttpError:
    return HttpError(
        409, [message], violations=(Violation("body", pointer, "x-mock-button", expected, value, message, hint),)
    )


def _press(fields: Fields, context: FollowUp) -> Fields:
    target_id = str(fields.pop("target"))
    remix = fields.pop("remix", None)
    target = context.job_of(target_id)
    if target is None:
        raise HttpError(404, "Message not found")
    button = str(fields["button"])
    snap = target.snapshot(context.now)
    if button == CANCEL:
        if snap.status.terminal:
            raise _refuse(
                f"Cancel Job works only while a job is in progress (progress < 100); message {target_id} is "
                f"{snap.status.value} at {snap.progress}%.",
                "/button",
                button,
                "a job in progress",
                "cancel a job before it is DONE or FAIL",
            )
        return {"kind": "button", "button": CANCEL, "action": "cancel", "target": target_id}
    if snap.status is not JobStatus.DONE:
        raise _refuse(
            f"Message {target_id} is {snap.status.value} ({snap.progress}%): press its buttons once it is DONE.",
            "/messageId",
            target_id,
            "a DONE message",
            "poll the message until status is DONE, then press one of its buttons",
        )
    if button not in target.buttons:
        offered = ", ".join(target.buttons) if target.buttons else "no buttons"
        raise _refuse(
            f"Button {button!r} is not offered by message {target_id}; it offers: {offered}.",
            "/button",
            button,
            list(target.buttons),
            "send one of the buttons the message lists in `buttons`, exactly (case and emoji included)",
        )
    made = {**fields, "origin": target_id, "prompt": remix or target.prompt}
    width, height = target.width, target.height
    if button in ("U1", "U2", "U3", "U4"):
        quadrant = int(button[1]) - 1
        source = target.art[0] if target.art is not None else target_id
        return {
            **made,
            "media": "image",
            "width": width,
            "height": height,
            "art": (source, quadrant),
            "buttons": upscaled_buttons(width, height),
        }
    if button in _UPSCALE_FACTORS:
        factor = _UPSCALE_FACTORS[button]
        w, h = min(MAX_SIDE, width * factor), min(MAX_SIDE, height * factor)
        return {
            **made,
            "media": "image",
            "width": w,
            "height": h,
            "art": target.art or (target_id, 0),
            "buttons": upscaled_buttons(w, h),
        }
    if button == "Make Square":
        side = max(width, height)
        width, height = side, side
    return {**made, "media": "grid", "width": width, "height": height, "buttons": GRID_BUTTONS}


BUTTON = JobKind("button", _fields, priced("button"), progress_step=15, follow_up=_press)
