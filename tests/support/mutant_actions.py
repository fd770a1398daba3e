"""Servers whose only fault is what a documented action does: Cancel Job, Vary (Region), a button's stage and
origin, every extend index, the history, the cut-out's alpha.

`flux-mock check` presses every action, so it kills them; the proxy only sees the actions a client happens to
take, so they are not in `mutants.MUTANTS`, which the proxy is held to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mutant_rewrites import Call, Mutant, Reply, ResponseRule, _on_message

CREATED_AT = "2025-06-15T15:06:40.000Z"


def _flatten_cutouts(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # Every PNG with alpha is re-encoded without it (JPEG and WebP results are left alone).
    if call.is_image and status == 200 and isinstance(body, bytes) and body[25:26] in (b"\x04", b"\x06"):
        from io import BytesIO

        from PIL import Image

        out = BytesIO()
        Image.open(BytesIO(body)).convert("RGB").save(out, "PNG")
        return status, out.getvalue()
    return status, body


def _cancel_ignored(call: Call, body: Any) -> Any:
    # Cancel Job is answered as documented (200 naming the target) but nothing happens: the job runs on.
    if call.is_button and body.get("button") == "Cancel Job":
        return Reply(200, {"success": True, "messageId": body.get("messageId"), "createdAt": CREATED_AT})
    return body


def _cancel_resets_progress(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "FAIL" and body.get("error") == "Job cancelled":
        body["progress"] = 0


def _cancel_anytime(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # Cancel Job on a job that has ended (DONE, or cancelled already) is answered as if it worked.
    if call.is_button and call.body.get("button") == "Cancel Job" and status == 409:
        return 200, {"success": True, "messageId": call.body["messageId"], "createdAt": CREATED_AT}
    return status, body


def _mask_optional(call: Call, body: Any) -> Any:
    # Vary (Region) without a mask is accepted (the server paints a default mask).
    if call.is_button and body.get("button") == "Vary (Region)" and not body.get("mask"):
        return {**body, "mask": "AAAA"}
    return body


def _refuses_zoom(call: Call, body: Any) -> Any:
    # The upscale offers Zoom Out 1.5x, but pressing it is refused as not offered.
    if call.is_button and body.get("button") == "Zoom Out 1.5x":
        message = "Button 'Zoom Out 1.5x' is not offered by this message."
        return Reply(409, {"message": [message], "error": "Conflict", "statusCode": 409})
    return body


def _refuses_extend_beyond_0(call: Call, body: Any) -> Any:
    if call.method == "POST" and call.path.endswith("/video/mj/extend") and isinstance(body, dict):
        index = body.get("index")
        if isinstance(index, int) and index > 0:
            message = f"Result {body.get('index')} cannot be extended."
            return Reply(409, {"message": [message], "error": "Conflict", "statusCode": 409})
    return body


UPSCALED = ["Upscale (Subtle)", "Upscale (Creative)", "Vary (Subtle)", "Vary (Strong)", "Vary (Region)", "Zoom Out 2x"]


def _variation_is_upscale(call: Call, body: dict[str, Any]) -> None:
    # A grid made by a button (a variation, a reroll, a zoom...) comes back as one upscaled image.
    if body["status"] == "DONE" and body.get("originatingMessageId") and "V1" in body.get("buttons", []):
        body["buttons"] = list(UPSCALED)
        body["images"] = body["images"][:1]


def _origin_not_pressed(call: Call, body: dict[str, Any]) -> None:
    # A grid made by a button names some other message as its origin.
    origin = body.get("originatingMessageId")
    if isinstance(origin, str) and "V1" in body.get("buttons", []):
        body["originatingMessageId"] = ("1" if origin[0] == "0" else "0") + origin[1:]


GRID = ["U1", "U2", "U3", "U4", "\U0001f504", "V1", "V2", "V3", "V4"]


def _upscale_2x_is_grid(call: Call, body: dict[str, Any]) -> None:
    # The image Upscale (2x) makes (its buttons name Redo Upscale (2x)) comes back as a grid: only the v5 chain of
    # `check` shows it, so this proves that chain is pressed and judged.
    if body["status"] == "DONE" and "Redo Upscale (2x)" in body.get("buttons", []):
        body["buttons"] = list(GRID)


def _make_square_without_origin(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # The grid Make Square makes (only a non-square upscale offers it) does not say which message it came from.
    if call.is_button and status == 200 and call.body.get("button") == "Make Square" and isinstance(body, dict):
        call.state.setdefault("squared", set()).add(body.get("messageId"))
    if (
        call.is_fetch
        and status == 200
        and isinstance(body, dict)
        and body.get("messageId") in call.state.get("squared", ())
    ):
        body = {k: v for k, v in body.items() if k != "originatingMessageId"}
    return status, body


HISTORY_PATHS = ("/api/v1/nova/images", "/api/v1/midjourney/images")


def _on_history(change: Callable[[list[Any]], list[Any]]) -> ResponseRule:
    def rule(call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.method == "GET" and call.path in HISTORY_PATHS and status == 200 and isinstance(body, dict):
            body = dict(body, images=change(list(body.get("images", []))))
        return status, body

    return rule


def _oldest_first(images: list[Any]) -> list[Any]:
    return sorted(images, key=lambda image: str(image.get("createdAt")))


def _no_button(images: list[Any]) -> list[Any]:
    return [dict(image, button="") for image in images]


ACCOUNT_INFO = "/api/v1/subscription/account-info"
VARIATIONS = ("V1", "V2", "V3", "V4")


def _variations_cost_10(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # Each variation takes 5 credits more than its x-credits price (5): account-info shows them all gone.
    if call.is_button and status == 200 and call.body.get("button") in VARIATIONS:
        call.state["overcharged"] = call.state.get("overcharged", 0) + 5
    if call.method == "GET" and call.path == ACCOUNT_INFO and status == 200 and isinstance(body, dict):
        body = dict(body, credits=body["credits"] - call.state.get("overcharged", 0))
    return status, body


def _says_four_slots(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # The server runs every job at once, but its health still says a key runs 4.
    if call.method == "GET" and call.path == "/__mock/health" and status == 200 and isinstance(body, dict):
        body = dict(body, queue={**body["queue"], "concurrency": 4})
    return status, body


LIFECYCLE = frozenset({"lifecycle"})  # what only the lifecycle run's actions can show

ACTION_MUTANTS: list[Mutant] = [
    Mutant(
        "cutout-without-alpha",
        "a remove-bg result is served as an opaque RGB PNG",
        frozenset({"png_has_alpha"}),
        response=_flatten_cutouts,
        phases=LIFECYCLE,
    ),
    Mutant(
        "cancel-ignored",
        "Cancel Job answers 200 naming the job, but the job runs on to DONE",
        frozenset({"cancel_ends_job"}),
        request=_cancel_ignored,
        phases=LIFECYCLE,
    ),
    Mutant(
        "cancel-resets-progress",
        "a cancelled job ends FAIL at progress 0, not at the progress it had",
        frozenset({"cancel_ends_job"}),
        response=_on_message(_cancel_resets_progress),
        phases=LIFECYCLE,
    ),
    Mutant(
        "cancel-after-end-accepted",
        "Cancel Job on a DONE or already cancelled job is answered 200",
        frozenset({"cancel_needs_running_target"}),
        response=_cancel_anytime,
        phases=LIFECYCLE,
    ),
    Mutant(
        "vary-region-without-mask",
        "Vary (Region) without a mask is accepted",
        frozenset({"vary_region_needs_mask"}),
        request=_mask_optional,
        phases=LIFECYCLE,
    ),
    Mutant(
        "offered-button-refused",
        "an upscale offers Zoom Out 1.5x but pressing it is refused with 409",
        frozenset({"valid_request_accepted"}),
        request=_refuses_zoom,
        phases=LIFECYCLE,
    ),
    Mutant(
        "variation-makes-upscale",
        "a variation, reroll, zoom or pan leads to one upscaled image instead of a grid",
        frozenset({"button_leads_to_stage"}),
        response=_on_message(_variation_is_upscale),
        phases=LIFECYCLE,
    ),
    Mutant(
        "origin-not-the-pressed-message",
        "a grid made by a button names another message in originatingMessageId",
        frozenset({"follow_up_names_origin"}),
        response=_on_message(_origin_not_pressed),
        phases=LIFECYCLE,
    ),
    Mutant(
        "upscale-2x-makes-grid",
        "Upscale (2x) (offered by a --v 5 upscale) leads to a grid, not an upscaled image",
        frozenset({"button_leads_to_stage"}),
        response=_on_message(_upscale_2x_is_grid),
        phases=LIFECYCLE,
    ),
    Mutant(
        "make-square-without-origin",
        "the grid Make Square makes (on a non-square upscale) has no originatingMessageId",
        frozenset({"follow_up_names_origin"}),
        response=_make_square_without_origin,
        phases=LIFECYCLE,
    ),
    Mutant(
        "extend-only-result-0",
        "video extend refuses every result index but 0",
        frozenset({"valid_request_accepted"}),
        request=_refuses_extend_beyond_0,
        phases=LIFECYCLE,
    ),
    Mutant(
        "history-oldest-first",
        "the history lists jobs oldest first",
        frozenset({"history_lists_jobs"}),
        response=_on_history(_oldest_first),
        phases=LIFECYCLE,
    ),
    Mutant(
        "history-without-buttons",
        'the history shows every job\'s button as "" (jobs made by a button look like new imagines)',
        frozenset({"history_lists_jobs"}),
        response=_on_history(_no_button),
        phases=LIFECYCLE,
    ),
    Mutant(
        "variation-overcharged",
        "a variation (V1-V4) takes 10 credits, not the 5 its x-credits say",
        frozenset({"credits_match_charges"}),
        response=_variations_cost_10,
        phases=LIFECYCLE,
    ),
    Mutant(
        "no-queue",
        "every job runs at once: none waits QUEUED, though the server says a key runs 4",
        frozenset({"queue_holds_jobs"}),
        response=_says_four_slots,
        phases=LIFECYCLE,
        concurrency=1000,
    ),
]
