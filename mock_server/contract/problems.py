"""Violations and the NestJS error bodies the real API sends.

A `Violation` says what was wrong, where (JSON pointer), what was sent and how to fix
it. The same object goes into the HTTP error body (as the mock-only ``details``
extension), into the request journal, and into contract-failure text.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, NotRequired, TypedDict


class ErrorBody(TypedDict):
    message: str | list[str]
    statusCode: int
    error: NotRequired[str]
    details: NotRequired[list[dict[str, Any]]]


_MISSING = object()
# How much of a sent value an error or the journal echoes: enough to recognise it, never enough to make an
# answer or a journal read fail (orjson serialises only 254 levels; a 100 MiB string is not worth echoing).
ECHO_DEPTH = 4
ECHO_ITEMS = 20
ECHO_CHARS = 200
TEXT_CHARS = 1000


# orjson writes integers from -2**63 to 2**64 - 1; a larger one sent in a path or query parameter is echoed as text.
_INT_RANGE = range(-(2**63), 2**64)


def bounded(value: Any, depth: int = ECHO_DEPTH) -> Any:
    """`value` cut to at most `ECHO_DEPTH` levels, `ECHO_ITEMS` items per container and `ECHO_CHARS` per string.

    Integers beyond 64 bits become their digits as text, so every echo serialises.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value not in _INT_RANGE:
        return bounded(str(value))
    if isinstance(value, str):
        return value if len(value) <= ECHO_CHARS else f"{value[:ECHO_CHARS]}... ({len(value)} characters)"
    if isinstance(value, list | tuple):
        if depth <= 0:
            return f"[... {len(value)} item(s), nested too deep to show]"
        items = [bounded(v, depth - 1) for v in value[:ECHO_ITEMS]]
        return [*items, f"... (+{len(value) - ECHO_ITEMS} more)"] if len(value) > ECHO_ITEMS else items
    if isinstance(value, dict):
        if depth <= 0:
            return f"{{... {len(value)} key(s), nested too deep to show}}"
        shown = {bounded(str(k)): bounded(v, depth - 1) for k, v in list(value.items())[:ECHO_ITEMS]}
        if len(value) > ECHO_ITEMS:
            shown["..."] = f"+{len(value) - ECHO_ITEMS} more key(s)"
        return shown
    return value


def _short(text: str) -> str:
    return text if len(text) <= TEXT_CHARS else f"{text[:TEXT_CHARS]}... ({len(text)} characters)"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule in one request.

    Attributes:
        location: body, path, header or query.
        pointer: JSON Pointer into that part, e.g. ``/width``; ``""`` is the whole part.
        rule: the JSON Schema keyword that failed, e.g. ``multipleOf``.
        expected: the rule's bound or allowed values.
        value: what was sent (None when it was missing).
        message: class-validator style sentence, e.g. "width must be divisible by 8".
        hint: how to fix it.
    """

    location: str
    pointer: str
    rule: str
    expected: Any
    value: Any
    message: str
    hint: str

    def __post_init__(self) -> None:
        # Echoes of what was sent are bounded once, here, so every answer and journal read can serialise them.
        object.__setattr__(self, "value", bounded(self.value))
        object.__setattr__(self, "expected", bounded(self.expected))
        object.__setattr__(self, "pointer", _short(self.pointer))
        object.__setattr__(self, "message", _short(self.message))
        object.__setattr__(self, "hint", _short(self.hint))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form: every field, by its name."""
        return {name: getattr(self, name) for name in self.__slots__}

    def __str__(self) -> str:
        where = f"{self.location}{self.pointer or ' (root)'}"
        return f"{self.message} (at {where}, sent {self.value!r}; {self.hint})"


class HttpError(Exception):
    """An error answer: raised by endpoints and middleware, rendered as the NestJS shape."""

    def __init__(
        self,
        status: int,
        message: str | list[str],
        *,
        violations: tuple[Violation, ...] = (),
        headers: dict[str, str] | None = None,
        with_error_name: bool = True,
    ) -> None:
        super().__init__(message if isinstance(message, str) else "; ".join(message))
        self.status = status
        self.message = message
        self.violations = violations
        self.headers = headers or {}
        self.with_error_name = with_error_name

    def body(self) -> ErrorBody:
        """The JSON body, e.g. {"message": ..., "error": "Bad Request", "statusCode": 400}."""
        return error_body(self.status, self.message, self.violations, with_error_name=self.with_error_name)


def error_body(
    status: int,
    message: str | list[str],
    violations: tuple[Violation, ...] = (),
    *,
    with_error_name: bool = True,
) -> ErrorBody:
    """Build a NestJS-shaped error body; `details` is added only when there are violations."""
    body: ErrorBody = {"message": message, "statusCode": status}
    if with_error_name:
        body["error"] = HTTPStatus(status).phrase
    if violations:
        body["details"] = [v.as_dict() for v in violations]
    return body


THROTTLED = "ThrottlerException: Too Many Requests"


def nest_body(status: int) -> ErrorBody:
    """The body NestJS sends for a bare exception of `status` (e.g. ``new ServiceUnavailableException()``)."""
    if status == 429:
        return error_body(429, THROTTLED, with_error_name=False)
    if status == 500:
        return error_body(500, "Internal server error", with_error_name=False)
    return error_body(status, HTTPStatus(status).phrase, with_error_name=False)


def unauthorized() -> HttpError:
    """The exact 401 NestJS sends: no "error" key."""
    return HttpError(401, "Unauthorized", with_error_name=False)


def from_violations(violations: list[Violation]) -> HttpError:
    """A 400 listing every violation, the documented single message kept as a plain string."""
    messages = [v.message for v in violations]
    message: str | list[str] = messages[0] if messages == ["Prompt is required."] else messages
    return HttpError(400, message, violations=tuple(violations))
