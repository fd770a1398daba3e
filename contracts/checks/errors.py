"""Checks on what a server answers a request: a create's success flag, the NestJS error shape, and a refused body
naming its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.core.failures import ContractFailure


def create_succeeded(body: Any, *, operation: str | None = None) -> list[ContractFailure]:
    """A job-creating answer of 200 says ``success: true``."""
    if isinstance(body, Mapping) and body.get("success") is True:
        return []
    got = body.get("success") if isinstance(body, Mapping) else body
    return [
        ContractFailure(
            "create_response_ok", "a created job must answer success: true", operation, "/success", True, got
        )
    ]


def error_has_nestjs_shape(status_code: int, body: Any, *, operation: str | None = None) -> list[ContractFailure]:
    """An error answer (4xx/5xx) has the NestJS shape ``{message, statusCode, error?}``."""

    def fail(problem: str, pointer: str, expected: Any, actual: Any) -> list[ContractFailure]:
        text = f"the {status_code} error body {problem}; NestJS sends {{message, error, statusCode}}"
        return [ContractFailure("error_has_nestjs_shape", text, operation, pointer, expected, actual)]

    if not isinstance(body, Mapping):
        return fail("is not a JSON object", "", "an object", body)
    message = body.get("message")
    text_ok = isinstance(message, str) and bool(message.strip())
    list_ok = isinstance(message, list) and bool(message) and all(isinstance(m, str) for m in message)
    if not (text_ok or list_ok):
        return fail("has no usable message", "/message", "a string or a list of strings", message)
    if body.get("statusCode") != status_code or isinstance(body.get("statusCode"), bool):
        return fail(
            "has a statusCode that differs from the HTTP status", "/statusCode", status_code, body.get("statusCode")
        )
    if "error" in body and not isinstance(body["error"], str):
        return fail("has a non-string error", "/error", "a string such as 'Bad Request'", body["error"])
    return []


def refused(
    check: str,
    expected: int,
    status_code: int,
    body: Any,
    *,
    what: str,
    must: str,
    pointer: str,
    operation: str | None = None,
) -> list[ContractFailure]:
    """`what` was sent and must get the refusal `expected` in the NestJS shape; else a failure of `check` saying
    what the server did instead and what it `must` do."""
    if status_code == expected:
        return error_has_nestjs_shape(status_code, body, operation=operation)
    verb = "accepted" if status_code < 300 else f"answered {status_code} to"
    return [ContractFailure(check, f"the server {verb} {what}; {must}", operation, pointer, expected, status_code)]


def rejection_names_field(
    status_code: int, body: Any, *, rule: str, field: str, operation: str | None = None
) -> list[ContractFailure]:
    """A body that breaks one rule is refused with 400 and an error message that names the field."""
    if status_code != 400:
        what = f"a body that breaks rule {rule}"
        return refused(
            "rejection_names_field",
            400,
            status_code,
            body,
            what=what,
            must="it must answer 400",
            pointer=f"/{field}",
            operation=operation,
        )
    message = body.get("message") if isinstance(body, Mapping) else None
    text = " ".join(message) if isinstance(message, list) else str(message or "")
    if field.lower() in text.lower():
        return []
    return [
        ContractFailure(
            "rejection_names_field",
            f"the 400 for rule {rule} does not name the field {field!r}; say which field is wrong",
            operation,
            "/message",
            f"a message naming {field}",
            message,
        )
    ]
