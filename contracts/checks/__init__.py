"""Contract rules beyond the JSON schemas, as named, reusable, pure functions.

Every check takes bodies (dicts as received) and returns a list of `ContractFailure`, empty when
the rule holds, with a message a person can act on. Nothing here does I/O, so the same checks
judge a live server (``flux-mock check``), a recorded history, or a webhook payload in a test:

    from contracts import checks
    failures = checks.check_history(polled_bodies, n=2)
    checks.raise_for(failures)          # ContractViolation (an AssertionError) if any

`CHECKS` maps every check name to what it enforces.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from contracts.checks.actions import (
    button_leads_to_stage,
    cancel_answers_target,
    cancel_ends_job,
    cancel_needs_running_target,
    history_lists_jobs,
    png_has_alpha,
    vary_region_needs_mask,
)
from contracts.checks.base import FETCH, FETCH_LEGACY, Message, fail, parse_timestamp
from contracts.checks.errors import create_succeeded, error_has_nestjs_shape, rejection_names_field
from contracts.checks.kinds import (
    SHAPES,
    DoneShape,
    any_kind,
    check_result,
    done_has_buttons,
    done_has_content,
    done_has_images,
    done_has_video,
    done_shape,
    follow_up_names_origin,
    infer_shape,
)
from contracts.checks.refusals import button_refused, credits_match_charges
from contracts.core.failures import ContractFailure, raise_for
from contracts.core.schema import schema_errors

_RANK = {"QUEUED": 0, "PROCESSING": 1, "DONE": 2, "FAIL": 2}

CHECKS: dict[str, str] = {
    "matches_schema": "the body validates against its schema in openapi.yaml (formats included)",
    "status_moves_forward": "status only moves forward: QUEUED -> PROCESSING -> DONE | FAIL, then never changes",
    "progress_never_decreases": "progress never decreases between polls",
    "progress_in_range": "progress is an integer in 0..100",
    "done_progress_is_100": "a DONE message has progress 100",
    "done_has_images": "a DONE image message has len(images) == n (when n is known) and uri == images[0]",
    "done_has_buttons": "a DONE Midjourney message lists its buttons (a grid: U1-U4 and V1-V4 at least)",
    "done_has_content": "a DONE describe or command message has a non-empty content and no uri or images",
    "done_has_video": "a DONE video message has results indexed 0, 1, ..., videoUrl == results[0].url, no uri",
    "follow_up_names_origin": "a button's or an extend's message names the message it acted on (originatingMessageId)",
    "fail_has_error": "a FAIL message has a non-empty error",
    "timestamps_are_ordered": "createdAt and updatedAt parse as ISO 8601 and updatedAt >= createdAt",
    "timestamps_never_go_back": "createdAt never changes and updatedAt never decreases between polls",
    "message_id_matches": "the message is the job that was asked for",
    "ref_is_echoed": "the ref sent at creation comes back in the message",
    "error_has_nestjs_shape": "an error body is {message: string | string[], statusCode: <HTTP status>, "
    "error?: string}",
    "progress_paths_agree": "both progress paths (current and legacy) return the same message",
    "webhook_matches_final": "the last webhook payload equals the final GET body",
    "rejection_names_field": "a body breaking one rule gets 400 with a message naming the field",
    "create_response_ok": "a created job answers success: true",
    # Applied by `flux-mock check` to what it sees on the wire (no function of their own):
    "valid_request_accepted": "a valid create body gets 200 (flux-mock check's lifecycle jobs)",
    "not_a_server_error": "no 5xx answer to a valid request",
    "fetch_finds_job": "the progress endpoint finds every messageId the server returned",
    "finishes_within_timeout": "a job reaches DONE or FAIL within its timeout (plus a grace period)",
    "images_are_fetchable": "every result URL of a DONE job downloads: images with an image/* Content-Type, "
    "videos with video/*",
    "webhook_delivered": "a job with webhookOverride delivers a webhook once it ends",
    "error_status": "unknown id -> 404, malformed id -> 400, no credentials -> 401",
    "button_needs_done_target": "a button pressed on a message that is not DONE, or one it does not offer, is "
    "refused with 409 and creates no job",
    "credits_match_charges": "account-info's credits fall by exactly what each created job costs (openapi.yaml's "
    "x-credits for its operation and body), checked job by job where the server shows a finite balance",
    "queue_holds_jobs": "where the server says how many jobs a key runs at once, the next job waits QUEUED until one "
    "of them ends, then starts",
    "cancel_ends_job": "pressing Cancel Job on a running job answers its messageId; the job then ends FAIL with an "
    "error at the progress it had, on every poll path and in its webhook",
    "cancel_needs_running_target": "pressing Cancel Job on a job that has ended (DONE, or already cancelled) is "
    "refused with 409",
    "vary_region_needs_mask": "pressing Vary (Region) without a mask is refused with 400",
    "png_has_alpha": "a remove-bg result downloads as a PNG with an alpha channel",
    "history_lists_jobs": "the history lists every finished image job, newest first, with its kind and button",
    "button_leads_to_stage": "pressing U1-U4 or an upscale button leads to an upscaled image, every other button "
    "to a grid",
}


def matches_schema(name: str, body: Any, *, operation: str | None = None) -> list[ContractFailure]:
    """The body validates against a named schema (``Message``, ``CreateResponse``, ``webhook:messageUpdate``...)."""
    found = []
    for error in schema_errors(name, body):
        message = f"{name} body breaks its schema: {error.message} ({error.keyword})"
        found.append(
            fail(
                "matches_schema",
                message,
                body if isinstance(body, Mapping) else None,
                operation=operation,
                pointer=error.pointer or "/",
                actual=error.value,
            )
        )
    return found


def status_moves_forward(history: Sequence[Message]) -> list[ContractFailure]:
    """Status only moves forward (QUEUED -> PROCESSING -> DONE | FAIL) and a final status never changes."""
    found = []
    for index, (before, after) in enumerate(itertools.pairwise(history), start=1):
        old, new = before.get("status"), after.get("status")
        if old not in _RANK or new not in _RANK or old == new:
            continue
        if _RANK[new] <= _RANK[old]:
            final = " a final status must never change" if _RANK[old] == 2 else " statuses only move forward"
            found.append(
                fail(
                    "status_moves_forward",
                    f"status went from {old} to {new} between poll {index} and {index + 1};{final}",
                    after,
                    pointer="/status",
                    expected=f"{old} or later",
                    actual=new,
                )
            )
    return found


def progress_never_decreases(history: Sequence[Message]) -> list[ContractFailure]:
    """Progress never decreases from one poll to the next (hold the highest value reached)."""
    found = []
    for index, (before, after) in enumerate(itertools.pairwise(history), start=1):
        old, new = before.get("progress"), after.get("progress")
        if isinstance(old, int | float) and isinstance(new, int | float) and new < old:
            found.append(
                fail(
                    "progress_never_decreases",
                    f"progress went from {old} to {new} between poll {index} and {index + 1}; "
                    "progress must never decrease",
                    after,
                    pointer="/progress",
                    expected=f">= {old}",
                    actual=new,
                )
            )
    return found


def progress_in_range(message: Message) -> list[ContractFailure]:
    """Progress is an integer from 0 to 100."""
    value = message.get("progress")
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is not None and float(number).is_integer() and 0 <= number <= 100:
        return []
    return [
        fail(
            "progress_in_range",
            f"progress is {value!r}; it must be an integer from 0 to 100",
            message,
            pointer="/progress",
            expected="0..100",
            actual=value,
        )
    ]


def done_progress_is_100(message: Message) -> list[ContractFailure]:
    """A DONE message reports progress 100."""
    if message.get("status") != "DONE" or message.get("progress") == 100:
        return []
    return [
        fail(
            "done_progress_is_100",
            f"status is DONE but progress is {message.get('progress')!r}",
            message,
            pointer="/progress",
            expected=100,
            actual=message.get("progress"),
        )
    ]


def fail_has_error(message: Message) -> list[ContractFailure]:
    """A FAIL message says what went wrong in a non-empty ``error``."""
    error = message.get("error")
    if message.get("status") != "FAIL" or (isinstance(error, str) and error.strip()):
        return []
    return [
        fail(
            "fail_has_error",
            "status is FAIL but error is missing or empty; say what went wrong",
            message,
            pointer="/error",
            expected="a non-empty string",
            actual=error,
        )
    ]


def timestamps_are_ordered(message: Message) -> list[ContractFailure]:
    """createdAt and updatedAt parse as ISO 8601 and updatedAt >= createdAt."""
    found = []
    parsed = {}
    for key in ("createdAt", "updatedAt"):
        parsed[key] = parse_timestamp(message.get(key))
        if parsed[key] is None:
            found.append(
                fail(
                    "timestamps_are_ordered",
                    f"{key} {message.get(key)!r} is not an ISO 8601 timestamp",
                    message,
                    pointer=f"/{key}",
                    expected="e.g. 2023-08-01T14:03:01.817Z",
                    actual=message.get(key),
                )
            )
    created, updated = parsed["createdAt"], parsed["updatedAt"]
    if created is not None and updated is not None and updated < created:
        found.append(
            fail(
                "timestamps_are_ordered",
                "updatedAt is earlier than createdAt",
                message,
                pointer="/updatedAt",
                expected=f">= {message.get('createdAt')}",
                actual=message.get("updatedAt"),
            )
        )
    return found


def timestamps_never_go_back(history: Sequence[Message]) -> list[ContractFailure]:
    """createdAt stays the same across polls and updatedAt never decreases."""
    found = []
    for index, (before, after) in enumerate(itertools.pairwise(history), start=1):
        if before.get("createdAt") != after.get("createdAt"):
            found.append(
                fail(
                    "timestamps_never_go_back",
                    f"createdAt changed between poll {index} and {index + 1}",
                    after,
                    pointer="/createdAt",
                    expected=before.get("createdAt"),
                    actual=after.get("createdAt"),
                )
            )
        old, new = parse_timestamp(before.get("updatedAt")), parse_timestamp(after.get("updatedAt"))
        if old is not None and new is not None and new < old:
            found.append(
                fail(
                    "timestamps_never_go_back",
                    f"updatedAt went back in time between poll {index} and {index + 1}",
                    after,
                    pointer="/updatedAt",
                    expected=f">= {before.get('updatedAt')}",
                    actual=after.get("updatedAt"),
                )
            )
    return found


def message_id_matches(message: Message, message_id: str) -> list[ContractFailure]:
    """The message is the job that was asked for."""
    if message.get("messageId") == message_id:
        return []
    return [
        ContractFailure(
            "message_id_matches",
            f"asked for job {message_id} but got {message.get('messageId')!r}",
            FETCH,
            "/messageId",
            message_id,
            message.get("messageId"),
            message_id=message_id,
        )
    ]


def ref_is_echoed(message: Message, ref: str) -> list[ContractFailure]:
    """The ``ref`` sent when the job was created comes back unchanged."""
    if message.get("ref") == ref:
        return []
    return [
        fail(
            "ref_is_echoed",
            "the ref sent at creation must come back in the message and the webhook",
            message,
            pointer="/ref",
            expected=ref,
            actual=message.get("ref"),
        )
    ]


def progress_paths_agree(current: Message, legacy: Message) -> list[ContractFailure]:
    """Both progress paths return the same body (all keys once both are final; the job's identity before)."""
    final = current.get("status") in ("DONE", "FAIL") and legacy.get("status") in ("DONE", "FAIL")
    keys = sorted(set(current) | set(legacy)) if final else ["messageId", "createdAt", "prompt", "ref"]
    differ = [k for k in keys if current.get(k) != legacy.get(k)]
    if not differ:
        return []
    return [
        fail(
            "progress_paths_agree",
            f"{FETCH} and {FETCH_LEGACY} disagree on {', '.join(differ)}; both must return the same message",
            current,
            operation=FETCH_LEGACY,
            pointer=f"/{differ[0]}",
            expected=current.get(differ[0]),
            actual=legacy.get(differ[0]),
        )
    ]


def webhook_matches_final(payload: Any, final: Message) -> list[ContractFailure]:
    """The last webhook payload is exactly the final GET body (the docs: "same as our Message endpoint")."""
    if payload == final:
        return []
    if not isinstance(payload, Mapping):
        return [
            fail(
                "webhook_matches_final",
                "the webhook payload is not a JSON object",
                final,
                operation="POST webhookOverride",
                expected=dict(final),
                actual=payload,
            )
        ]
    differ = sorted(k for k in set(payload) | set(final) if payload.get(k) != final.get(k))
    return [
        fail(
            "webhook_matches_final",
            f"the webhook payload differs from the final GET body on {', '.join(differ)}",
            final,
            operation="POST webhookOverride",
            pointer=f"/{differ[0]}",
            expected=final.get(differ[0]),
            actual=payload.get(differ[0]),
        )
    ]


def check_message(
    message: Message,
    *,
    n: int | None = None,
    message_id: str | None = None,
    ref: str | None = None,
    schema: str = "Message",
    kind: str | None = None,
    origin: str | None = None,
) -> list[ContractFailure]:
    """Every single-message check: schema, progress range, DONE/FAIL rules, timestamps, identity, ref.

    Args:
        kind: the job kind (``x-mock-kind: create:<kind>``) whose DONE shape applies (`SHAPES`); None: Flux imagine.
        n: for Flux imagine, how many images the job asked for.
        origin: for a follow-up (button, extend), the messageId it acted on.
    """
    found = matches_schema(schema, message, operation=FETCH)
    found += progress_in_range(message)
    found += done_progress_is_100(message)
    found += check_result(message, done_shape(kind), n=n, origin=origin)
    found += fail_has_error(message)
    found += timestamps_are_ordered(message)
    if message_id is not None:
        found += message_id_matches(message, message_id)
    if ref is not None:
        found += ref_is_echoed(message, ref)
    return found


def check_history(
    history: Sequence[Message],
    *,
    n: int | None = None,
    message_id: str | None = None,
    ref: str | None = None,
    kind: str | None = None,
    origin: str | None = None,
) -> list[ContractFailure]:
    """Every check over a job's polled bodies, oldest first: the per-message checks plus the ordering ones."""
    found = [
        failure
        for message in history
        for failure in check_message(message, n=n, message_id=message_id, ref=ref, kind=kind, origin=origin)
    ]
    found += status_moves_forward(history)
    found += progress_never_decreases(history)
    found += timestamps_never_go_back(history)
    return found


__all__ = [
    "CHECKS",
    "FETCH",
    "FETCH_LEGACY",
    "SHAPES",
    "DoneShape",
    "any_kind",
    "button_leads_to_stage",
    "button_refused",
    "cancel_answers_target",
    "cancel_ends_job",
    "cancel_needs_running_target",
    "check_history",
    "check_message",
    "check_result",
    "create_succeeded",
    "credits_match_charges",
    "done_has_buttons",
    "done_has_content",
    "done_has_images",
    "done_has_video",
    "done_progress_is_100",
    "done_shape",
    "error_has_nestjs_shape",
    "fail_has_error",
    "follow_up_names_origin",
    "history_lists_jobs",
    "infer_shape",
    "matches_schema",
    "message_id_matches",
    "parse_timestamp",
    "png_has_alpha",
    "progress_in_range",
    "progress_never_decreases",
    "progress_paths_agree",
    "raise_for",
    "ref_is_echoed",
    "rejection_names_field",
    "status_moves_forward",
    "timestamps_are_ordered",
    "timestamps_never_go_back",
    "vary_region_needs_mask",
    "webhook_matches_final",
]
