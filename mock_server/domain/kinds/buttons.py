"""Midjourney buttons: which a message offers when DONE, and what pressing one makes.

- A grid (imagine, reroll, variations, blend, zoom, pan, vary) offers U1-U4, the reroll and V1-V4.
- U1-U4 make an upscale: quadrant i of that grid as one image, offering the upscaled stage's buttons
  (the upscalers, Vary Subtle/Strong/Region, both zooms, the four pans, and Make Square when the image is not
  square), as Midjourney's own UI does. The upscalers follow the grid's ``--v``: Upscale (Subtle)/(Creative)
  for v6 and later (the default), Upscale (2x)/(4x) for v5 and older (facts §3.4).
- Variations, the reroll, zooms, pans, Vary and Make Square make a new grid; upscale buttons a larger image
  (at most `MAX_SIDE` on its longer side, the aspect ratio kept). An image made by Upscale (2x) or (4x) offers
  Redo Upscale (2x) or (4x) in its place (Midjourney's own UI; ImaginePro does not say which message offers
  them): the redo makes the same upscale again, so an image of the same size.
- ``Cancel Job`` makes nothing: it ends the target (not yet DONE) as FAIL "Job cancelled".

A button the target does not offer, or a target that is not DONE, is a 409 naming what it offers: the
request is valid, the message's state refuses it (so a schema-valid request is never answered "invalid").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mock_server.contract.problems import HttpError, Violation
from mock_server.domain import prompts
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
V6_UPSCALERS = ("Upscale (Subtle)", "Upscale (Creative)")
V5_UPSCALERS = ("Upscale (2x)", "Upscale (4x)")


def v5_upscalers(redo: str | None = None) -> tuple[str, ...]:
    """v5's upscalers, with the one that made the image (`redo`: "Upscale (2x)" or "(4x)") offered as its Redo."""
    return tuple(f"Redo {b}" if b == redo else b for b in V5_UPSCALERS)


def upscaled_buttons(width: int, height: int, upscalers: tuple[str, ...] = V6_UPSCALERS) -> tuple[str, ...]:
    """What an upscaled image offers: `upscalers` (v6's by default), vary, zoom, pan, and Make Square if needed."""
    square = () if width == height else ("Make Square",)
    return (
        *upscalers,
        "Vary (Subtle)",
        "Vary (Strong)",
        VARY_REGION,
        "Zoom Out 2x",
        "Zoom Out 1.5x",
        *PANS,
        *square,
    )


def _upscaled(width: int, height: int, button: str) -> tuple[int, int]:
    """The size `button` makes of a `width` x `height` image: a Redo makes the same upscale again (the target is
    already its result, so the same size); the others scale by their factor, the longer side at most MAX_SIDE
    (both sides by the same factor, so the image keeps its shape and a non-square one still offers Make Square)."""
    if button.startswith("Redo "):
        return width, height
    factor = min(float(_UPSCALE_FACTORS[button]), MAX_SIDE / max(width, height))
    return max(1, round(width * factor)), max(1, round(height * factor))


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
        # The grid's own prompt decides its model version (a remix prompt changes what is drawn, not the model).
        v5 = prompts.flags(target.prompt or "").v5_upscalers
        return {
            **made,
            "media": "image",
            "width": width,
            "height": height,
            "art": (source, quadrant),
            "buttons": upscaled_buttons(width, height, v5_upscalers() if v5 else V6_UPSCALERS),
        }
    if button in _UPSCALE_FACTORS:
        w, h = _upscaled(width, height, button)
        # v5's upscalers are offered again with the one pressed as its Redo; v6's simply again.
        redo = button.removeprefix("Redo ")
        upscalers = v5_upscalers(redo) if redo in V5_UPSCALERS else V6_UPSCALERS
        return {
            **made,
            "media": "image",
            "width": w,
            "height": h,
            "art": target.art or (target_id, 0),
            "buttons": upscaled_buttons(w, h, upscalers),
        }
    if button == "Make Square":
        side = max(width, height)
        width, height = side, side
    return {**made, "media": "grid", "width": width, "height": height, "buttons": GRID_BUTTONS}


BUTTON = JobKind("button", _fields, priced("button"), progress_step=15, follow_up=_press)
