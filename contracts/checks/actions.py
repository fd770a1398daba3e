"""Checks on what a Midjourney action does beyond its own answer: Cancel Job, Vary (Region), and the stage a pressed
button leads to.

- ``Cancel Job`` answers with the target's messageId (it makes no job), and the target then ends FAIL, with an
  error, at the progress it had: on every poll path and in its webhook. Pressed on a job that has ended (DONE, or
  already cancelled), it is refused with 409 (openapi.yaml, mjButton: "works only while the target's progress is
  below 100").
- ``Vary (Region)`` needs ``mask`` (ButtonRequest's ``if``/``then``): without one the press is refused with 400.
- A button leads to a message of the documented stage (Message.buttons): U1-U4 and the upscale buttons to an
  upscaled image (one image, offering the upscale, vary, zoom and pan buttons), every other button to a grid
  (offering U1-U4 and V1-V4).
"""

from __future__ import annotations

import itertools
from typing import Any

from contracts.checks.base import FETCH, Message, parse_timestamp
from contracts.checks.errors import refused
from contracts.checks.refusals import CONFLICT
from contracts.core.failures import ContractFailure

CANCEL = "Cancel Job"
VARY_REGION = "Vary (Region)"
GRID = ("U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4")
UPSCALED = ("Vary (Subtle)", "Vary (Strong)", "Zoom Out 2x")  # what every upscaled image offers (Message.buttons)


def stage_of(button: str) -> str:
    """The stage pressing `button` leads to: "upscale" (one image) or "grid"."""
    upscales = button in GRID[:4] or button.startswith(("Upscale", "Redo Upscale"))
    return "upscale" if upscales else "grid"


def button_leads_to_stage(message: Message, button: str, *, operation: str | None = None) -> list[ContractFailure]:
    """A DONE message made by pressing `button` is of the stage the button leads to (`stage_of`)."""
    if message.get("status") != "DONE":
        return []
    stage = stage_of(button)
    buttons = message.get("buttons")
    listed = [b for b in buttons if isinstance(b, str)] if isinstance(buttons, list) else []
    images = message.get("images")
    if stage == "grid":
        wrong = [b for b in GRID if b not in listed]
        expected: Any = f"a grid offering {', '.join(GRID)}"
    else:
        wrong = [b for b in (*UPSCALED, *GRID[:1]) if (b in listed) == (b == "U1")]
        wrong += ["one image"] if isinstance(images, list) and len(images) != 1 else []
        expected = f"one upscaled image offering {', '.join(UPSCALED)} (and not U1)"
    if not wrong:
        return []
    return [
        ContractFailure(
            "button_leads_to_stage",
            f"pressing {button!r} must lead to a message of the {stage} stage ({expected}); this one lists "
            f"{len(images) if isinstance(images, list) else 'no'} image(s) and buttons {listed}",
            operation or FETCH,
            "/buttons",
            expected,
            listed,
            message_id=message.get("messageId"),
        )
    ]


def cancel_answers_target(
    status: int, body: Any, target: str, *, operation: str | None = None
) -> list[ContractFailure]:
    """Cancel Job on a running job answers 200 with the target's own messageId (it makes no new job)."""
    actual = body.get("messageId") if isinstance(body, dict) else None
    if status == 200 and actual == target:
        return []
    what = f"answered {status}" if status != 200 else f"answered messageId {actual!r}"
    return [
        ContractFailure(
            "cancel_ends_job",
            f"Cancel Job on a running job {what}; it must answer 200 with the target's messageId {target} "
            "(Cancel Job makes no job)",
            operation,
            "/messageId",
            target,
            actual if status == 200 else status,
            message_id=target,
        )
    ]


def cancel_ends_job(message: Message, progress: int, *, operation: str | None = None) -> list[ContractFailure]:
    """After Cancel Job the target is FAIL with an error, at the progress it had (`progress`, seen before the press;
    below 100)."""
    status, error, at = message.get("status"), message.get("error"), message.get("progress")
    problems = []
    if status != "FAIL":
        problems.append(f"status is {status!r}, not FAIL")
    if not isinstance(error, str) or not error:
        problems.append("it has no error")
    if not isinstance(at, int) or not progress <= at < 100:
        problems.append(f"progress is {at!r}, not the {progress}..99 it had when cancelled")
    if not problems:
        return []
    return [
        ContractFailure(
            "cancel_ends_job",
            f"after Cancel Job the job must end FAIL with an error at the progress it had: {'; '.join(problems)}",
            operation or FETCH,
            "/status" if status != "FAIL" else ("/error" if not error else "/progress"),
            f"FAIL with an error, progress {progress}..99",
            {"status": status, "error": error, "progress": at},
            message_id=message.get("messageId"),
        )
    ]


def cancel_needs_running_target(
    status_code: int, body: Any, *, status: str, operation: str | None = None
) -> list[ContractFailure]:
    """Cancel Job on a job that has ended (`status`: DONE, or FAIL once cancelled) is refused with 409."""
    return refused(
        "cancel_needs_running_target",
        CONFLICT,
        status_code,
        body,
        what=f"Cancel Job on a job that is already {status}",
        must="Cancel Job works only while the job's progress is below 100: answer 409 (Conflict)",
        pointer="/button",
        operation=operation,
    )


def vary_region_needs_mask(status_code: int, body: Any, *, operation: str | None = None) -> list[ContractFailure]:
    """Vary (Region) without ``mask`` is refused with 400 (ButtonRequest requires mask for it)."""
    return refused(
        "vary_region_needs_mask",
        400,
        status_code,
        body,
        what="Vary (Region) without a mask",
        must="ButtonRequest requires mask for it: answer 400 naming mask",
        pointer="/mask",
        operation=operation,
    )


def history_lists_jobs(
    entries: list[Any], made: list[tuple[str, str, str]], *, operation: str | None = None
) -> list[ContractFailure]:
    """The history lists every image job the run made (`made`: messageId, kind, button; "" when not a button),
    newest first, with its kind as ``type`` and its button as ``button``."""
    listed = {e.get("id"): e for e in entries if isinstance(e, dict)}
    found: list[ContractFailure] = []
    missing = [mid for mid, _, _ in made if mid not in listed]
    if missing:
        found.append(
            ContractFailure(
                "history_lists_jobs",
                f"{len(missing)} of the {len(made)} DONE image jobs this run made are not in the history; it must "
                "list every finished image job of the last 24 hours",
                operation,
                "/images",
                missing[:5],
                f"{len(listed)} entries",
            )
        )
    for mid, kind, button in made:
        entry = listed.get(mid)
        if entry is not None and (entry.get("type"), entry.get("button")) != (kind, button):
            found.append(
                ContractFailure(
                    "history_lists_jobs",
                    f"the history shows job {mid} as type {entry.get('type')!r}, button {entry.get('button')!r}; "
                    f"it was a {kind!r} job" + (f" made by pressing {button!r}" if button else ' (button "")'),
                    operation,
                    "/images",
                    {"type": kind, "button": button},
                    {"type": entry.get("type"), "button": entry.get("button")},
                    message_id=mid,
                )
            )
            break
    ours = [e for e in entries if isinstance(e, dict) and e.get("id") in {m for m, _, _ in made}]
    times = [str(e.get("createdAt")) for e in ours]
    stamps = [parse_timestamp(t) for t in times]
    known = [s for s in stamps if s is not None]
    if len(known) == len(stamps) and any(a < b for a, b in itertools.pairwise(known)):
        found.append(
            ContractFailure(
                "history_lists_jobs",
                "the history must list jobs newest first; createdAt rises between entries",
                operation,
                "/images",
                "createdAt descending",
                times[:6],
            )
        )
    return found


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_has_alpha(data: bytes, *, url: str, message_id: str | None = None) -> list[ContractFailure]:
    """The result of a remove-bg job is a PNG with an alpha channel (openapi.yaml, removeBackground): colour type
    4 or 6 (grey or RGB with alpha), or a palette or RGB image with a tRNS chunk."""
    is_png = data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR"
    colour = data[25] if is_png and len(data) > 25 else None
    if colour in (4, 6) or (is_png and b"tRNS" in data.split(b"IDAT", 1)[0]):
        return []
    actual = "not a PNG" if not is_png else f"a PNG of colour type {colour} without tRNS"
    return [
        ContractFailure(
            "png_has_alpha",
            f"the remove-bg result {url} is {actual}; removeBackground's result is a PNG with an alpha channel",
            "GET <result URL>",
            "/uri",
            "PNG with alpha (colour type 4 or 6, or tRNS)",
            actual,
            message_id=message_id,
        )
    ]
