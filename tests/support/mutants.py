"""Deliberately broken servers: flux-mock with one contract bug each, to prove `flux-mock check` catches it.

Each mutant wraps `create_app` in a small ASGI layer (`mutant_rewrites`) that rewrites requests or responses, so
the bug is exactly one behaviour and everything else stays faithful. `expected` names the checks that should
catch it; the kill test asserts at least one of them fired. `MUTANTS` break the contract's rules (the proxy is
held to them too); `ACTION_MUTANTS` (in `mutant_actions`) break what a documented action does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mutant_actions import ACTION_MUTANTS
from mutant_rewrites import (
    API_KEY,
    CREDITS,
    FETCH_PREFIXES,
    Call,
    Mutant,
    Reply,
    RequestRule,
    Rewrite,
    _on_message,
    dry_webhooks,
    faithful,
)

__all__ = [
    "ACTION_MUTANTS",
    "API_KEY",
    "CREDITS",
    "FETCH_PREFIXES",
    "MUTANTS",
    "Call",
    "Mutant",
    "Reply",
    "Rewrite",
    "_on_message",
    "dry_webhooks",
    "faithful",
]


# --- rules -----------------------------------------------------------------------------------------


def _body_rule(change: Callable[[dict[str, Any]], None]) -> RequestRule:
    def rule(call: Call, body: Any) -> Any:
        if call.is_create and isinstance(body, dict):
            body = dict(body)
            change(body)
        return body

    return rule


def _clamp_n(body: dict[str, Any]) -> None:
    if body.get("n") == 5:
        body["n"] = 4


def _round_width(body: dict[str, Any]) -> None:
    width = body.get("width")
    if isinstance(width, int) and not isinstance(width, bool) and 256 <= width <= 1440 and width % 8:
        body["width"] = width - width % 8


def _default_prompt(body: dict[str, Any]) -> None:
    if "image" not in body:
        body.setdefault("prompt", "a default prompt")


def _drop_unknown(body: dict[str, Any]) -> None:
    known = {
        "prompt",
        "ref",
        "webhookOverride",
        "timeout",
        "n",
        "height",
        "width",
        "aspect_ratio",
        "output_format",
        "output_quality",
        "model",
        "disableCdn",
        "image",
        "scale",
    }
    for key in set(body) - known:
        del body[key]


def _progress_backwards(call: Call, body: dict[str, Any]) -> None:
    # Once a poll has shown 30 % or more, the next PROCESSING poll shows 10 % (once per job).
    if body["status"] == "PROCESSING" and body["progress"] >= 30:
        seen = call.state.setdefault(body["messageId"], [])
        if len(seen) == 1:
            body["progress"] = 10
        seen.append(body["progress"])


def _uri_not_first(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE" and "images" in body:
        body["uri"] = body["images"][0] + "?copy=1"


def _done_without_images(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body.pop("images", None)


def _one_image(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE" and "images" in body:
        body["images"] = body["images"][:1]


def _done_then_processing(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        seen = call.state[body["messageId"]] = call.state.get(body["messageId"], 0) + 1
        if seen == 2:
            body.update(status="PROCESSING", progress=99)
            for key in ("uri", "images", "buttons", "content", "videoUrl", "results"):
                body.pop(key, None)


def _fail_without_error(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body.update(status="FAIL")
        for key in ("uri", "images", "buttons", "content", "videoUrl", "results"):
            body.pop(key, None)


def _never_finishes(call: Call, body: dict[str, Any]) -> None:
    if body["status"] in ("DONE", "FAIL"):
        body.update(status="PROCESSING", progress=99)
        for key in ("uri", "images", "error", "buttons", "content", "videoUrl", "results"):
            body.pop(key, None)


def _updated_before_created(call: Call, body: dict[str, Any]) -> None:
    body["updatedAt"] = "2001-01-01T00:00:00.000Z"


def _legacy_differs(call: Call, body: dict[str, Any]) -> None:
    if call.is_legacy and body["status"] == "DONE" and "uri" in body:
        body["uri"] = body["uri"].replace("http://", "https://")
        body["images"] = [body["uri"], *body["images"][1:]]


def _status_outside_enum(call: Call, body: dict[str, Any]) -> None:
    # Words real servers use instead of the contract's: neither is QUEUED, PROCESSING, DONE or FAIL.
    body["status"] = {"PROCESSING": "processing", "DONE": "COMPLETED"}.get(body["status"], body["status"])


LEGACY_LAG_S = 0.5  # the kill test's poll interval: polls that alternate between the paths cannot see it


def _legacy_lags(call: Call, body: dict[str, Any]) -> None:
    # A lagging replica: while a job runs, the legacy path serves the newest answer the current path gave at least
    # LEGACY_LAG_S ago (the live answer when there is none yet).
    now = call.state["clock"].now()
    seen = call.state.setdefault("current", {}).setdefault(body["messageId"], [])
    if not call.is_legacy:
        seen.append((now, dict(body)))
        return
    old = [answer for at, answer in seen if at <= now - LEGACY_LAG_S]
    if old and body["status"] not in ("DONE", "FAIL"):
        body.clear()
        body.update(old[-1])


def _progress_101(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body["progress"] = 101


def _other_message_id(call: Call, body: dict[str, Any]) -> None:
    mid = body["messageId"]
    body["messageId"] = ("1" if mid[0] == "0" else "0") + mid[1:]


def _drop_ref(call: Call, body: dict[str, Any]) -> None:
    body.pop("ref", None)


def _unparseable_time(call: Call, body: dict[str, Any]) -> None:
    body["createdAt"] = "22/02/2026 07:43"


def _express_errors(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if status >= 400 and isinstance(body, dict):
        return status, {"error": body.get("message"), "status": status}
    return status, body


def _status_code_400(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if status >= 400 and isinstance(body, dict):
        body = dict(body, statusCode=400)
    return status, body


def _crash_on_n2(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if call.is_create and status == 200 and isinstance(call.body, dict) and call.body.get("n") == 2:
        return 500, {"message": "Internal server error", "statusCode": 500}
    return status, body


def _missing_message_id(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if call.is_create and status == 200 and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "messageId"}
    return status, body


def _fetch_404(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if call.is_fetch and status == 200:
        return 404, {"message": "Message not found", "error": "Not Found", "statusCode": 404}
    return status, body


def _any_key_accepted(call: Call, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k != b"authorization"]
    return [*kept, (b"authorization", f"Bearer {API_KEY}".encode())]


def _images_gone(call: Call, status: int, body: Any) -> tuple[int, Any]:
    if call.is_image and status == 200:
        return 404, {"message": "Image not found", "error": "Not Found", "statusCode": 404}
    return status, body


def _grid_without_buttons(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE" and "U1" in body.get("buttons", []):
        del body["buttons"]


def _describe_without_content(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body.pop("content", None)


def _video_without_results(call: Call, body: dict[str, Any]) -> None:
    if body["status"] == "DONE":
        body.pop("results", None)


def _upscale_without_origin(call: Call, body: dict[str, Any]) -> None:
    body.pop("originatingMessageId", None)


def _press_anything(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # A refused button press (the target is not DONE, or does not offer the button) is answered as a new job.
    if call.method == "POST" and call.path.endswith("/button") and status == 409 and isinstance(call.body, dict):
        return 200, {"success": True, "messageId": call.body["messageId"], "createdAt": "2025-06-15T15:06:40.000Z"}
    return status, body


def _credits_frozen(call: Call, status: int, body: Any) -> tuple[int, Any]:
    # account-info shows the starting balance whatever the jobs were charged.
    if call.path == "/api/v1/subscription/account-info" and status == 200 and isinstance(body, dict):
        body = dict(body, credits=CREDITS)
    return status, body


MUTANTS: list[Mutant] = [
    Mutant(
        "accepts-n-5",
        "n=5 is accepted (served as 4)",
        frozenset({"rejection_names_field", "negative_data_rejection"}),
        request=_body_rule(_clamp_n),
    ),
    Mutant(
        "accepts-width-1001",
        "widths not divisible by 8 are accepted (rounded down)",
        frozenset({"rejection_names_field", "negative_data_rejection"}),
        request=_body_rule(_round_width),
    ),
    Mutant(
        "accepts-missing-prompt",
        "a missing prompt gets a default",
        frozenset({"rejection_names_field"}),
        request=_body_rule(_default_prompt),
    ),
    Mutant(
        "accepts-unknown-fields",
        "unknown keys are dropped silently",
        frozenset({"rejection_names_field"}),
        request=_body_rule(_drop_unknown),
    ),
    Mutant(
        "accepts-any-key",
        "requests without credentials are served",
        frozenset({"error_status", "ignored_auth"}),
        headers=_any_key_accepted,
    ),
    Mutant(
        "progress-backwards",
        "progress falls back to 10 once it has shown 30 or more",
        frozenset({"progress_never_decreases"}),
        response=_on_message(_progress_backwards),
    ),
    Mutant(
        "uri-not-first-image", "uri != images[0]", frozenset({"done_has_images"}), response=_on_message(_uri_not_first)
    ),
    Mutant(
        "done-without-images",
        "DONE without images",
        frozenset({"done_has_images"}),
        response=_on_message(_done_without_images),
    ),
    Mutant(
        "wrong-image-count",
        "DONE lists 1 image whatever n was",
        frozenset({"done_has_images"}),
        response=_on_message(_one_image),
    ),
    Mutant(
        "done-then-processing",
        "a DONE job is PROCESSING again on the next poll",
        frozenset({"status_moves_forward"}),
        response=_on_message(_done_then_processing),
    ),
    Mutant(
        "fail-without-error",
        "jobs end in FAIL without an error",
        frozenset({"fail_has_error"}),
        response=_on_message(_fail_without_error),
    ),
    Mutant(
        "never-finishes",
        "jobs stay PROCESSING past their timeout",
        frozenset({"finishes_within_timeout"}),
        response=_on_message(_never_finishes),
    ),
    Mutant(
        "updated-before-created",
        "updatedAt is before createdAt",
        frozenset({"timestamps_are_ordered"}),
        response=_on_message(_updated_before_created),
    ),
    Mutant(
        "unparseable-timestamps",
        "createdAt is not ISO 8601",
        frozenset({"matches_schema", "timestamps_are_ordered"}),
        response=_on_message(_unparseable_time),
    ),
    Mutant(
        "progress-101",
        "DONE reports progress 101",
        frozenset({"matches_schema", "progress_in_range"}),
        response=_on_message(_progress_101),
    ),
    Mutant(
        "legacy-path-differs",
        "the legacy path serves a different uri",
        frozenset({"progress_paths_agree"}),
        response=_on_message(_legacy_differs),
    ),
    Mutant(
        "legacy-path-lags",
        f"while a job runs, the legacy path serves what the current path answered {LEGACY_LAG_S} s earlier",
        frozenset({"progress_never_decreases", "status_moves_forward"}),
        response=_on_message(_legacy_lags),
    ),
    Mutant(
        "status-outside-enum",
        "status is 'processing' / 'COMPLETED' instead of PROCESSING / DONE",
        frozenset({"matches_schema"}),
        response=_on_message(_status_outside_enum),
    ),
    Mutant(
        "wrong-message-id",
        "fetch answers with another messageId",
        frozenset({"message_id_matches"}),
        response=_on_message(_other_message_id),
    ),
    Mutant("ref-dropped", "the ref is not echoed", frozenset({"ref_is_echoed"}), response=_on_message(_drop_ref)),
    Mutant(
        "express-error-shape",
        "errors are {error, status} instead of NestJS",
        frozenset({"error_has_nestjs_shape", "response_schema_conformance"}),
        response=_express_errors,
    ),
    Mutant(
        "status-code-mismatch",
        "error bodies always say statusCode 400",
        frozenset({"error_has_nestjs_shape"}),
        response=_status_code_400,
    ),
    Mutant(
        "500-on-valid-body", "a valid body with n=2 gets 500", frozenset({"not_a_server_error"}), response=_crash_on_n2
    ),
    Mutant(
        "create-without-message-id",
        "the create answer has no messageId",
        frozenset({"matches_schema", "response_schema_conformance"}),
        response=_missing_message_id,
    ),
    Mutant(
        "fetch-404", "fetch answers 404 for jobs it just created", frozenset({"fetch_finds_job"}), response=_fetch_404
    ),
    Mutant(
        "images-404",
        "image URLs of DONE jobs cannot be downloaded",
        frozenset({"images_are_fetchable"}),
        response=_images_gone,
    ),
    Mutant(
        "grid-without-buttons",
        "a DONE Midjourney grid lists no buttons",
        frozenset({"done_has_buttons"}),
        response=_on_message(_grid_without_buttons),
    ),
    Mutant(
        "button-on-unfinished-accepted",
        "a button pressed on a message that is not DONE (or one it does not offer) is accepted",
        frozenset({"button_needs_done_target"}),
        response=_press_anything,
    ),
    Mutant(
        "describe-without-content",
        "a DONE describe (or command) has no content",
        frozenset({"done_has_content"}),
        response=_on_message(_describe_without_content),
    ),
    Mutant(
        "video-without-results",
        "a DONE video job has no results",
        frozenset({"done_has_video"}),
        response=_on_message(_video_without_results),
    ),
    Mutant(
        "upscale-without-origin",
        "a button's (or an extend's) message does not name the message it acted on",
        frozenset({"follow_up_names_origin"}),
        response=_on_message(_upscale_without_origin),
    ),
    Mutant(
        "credits-not-charged",
        "account-info shows the starting credits whatever the jobs cost",
        frozenset({"credits_match_charges"}),
        response=_credits_frozen,
    ),
]
