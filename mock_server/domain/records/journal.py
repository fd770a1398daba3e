"""The request journal: every request the mock answered, newest last, bounded.

Entries are past-tense records. QA reads them at ``GET /__mock/requests``; the
contract kit reads them to judge a client (poll rate, schema breaks, Retry-After).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_server.contract.problems import Violation
from mock_server.domain.records.log import BoundedLog


@dataclass(frozen=True, slots=True)
class RequestRecorded:
    """One answered request."""

    seq: int
    at: float  # mock clock time of arrival (epoch seconds)
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    account: str | None = None
    operation_id: str | None = None
    message_id: str | None = None
    violations: tuple[Violation, ...] = ()
    body: str | None = None  # the request body as text, truncated
    tags: tuple[str, ...] = field(default=())  # e.g. scenario or fault names applied
    # What the mock decided for a job-creating request, after normalisation: kind, timeout, n, size, ...
    # (the prompt is left out; it is in `body`). Readers use this instead of re-parsing a truncated body.
    job: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(zip(ENTRY_KEYS, _json_values(self), strict=True))


# The JSON form's keys, in order. A shared store mirrors an entry as the list of its values only (`wire`):
# half the bytes, and no per-request dict or frozen record (~3 µs of every request on Redis).
ENTRY_KEYS = (
    "seq",
    "at",
    "method",
    "path",
    "query",
    "status",
    "durationMs",
    "account",
    "operationId",
    "messageId",
    "violations",
    "body",
    "tags",
    "job",
)


# A record's field values, in order: the same tuple `_values` makes from a raw item.
_record_values = operator.attrgetter(*(f.name for f in dataclasses.fields(RequestRecorded)))


def _json_values(e: RequestRecorded | tuple[Any, ...]) -> list[Any]:
    # A record, or the tuple of its field values in the same order (`_values`).
    values = _record_values(e) if isinstance(e, RequestRecorded) else e
    (
        seq,
        at,
        method,
        path,
        query,
        status,
        duration_ms,
        account,
        operation_id,
        message_id,
        violations,
        body,
        tags,
        job,
    ) = values
    return [
        seq,
        at,
        method,
        path,
        query,
        status,
        round(duration_ms, 3),
        account,
        operation_id,
        message_id,
        [v.as_dict() for v in violations],
        body,
        list(tags),
        None if job is None else dict(job),
    ]


def entry_from_wire(data: bytes | str) -> dict[str, Any]:
    """An entry's JSON form (`RequestRecorded.as_dict`) from what `Journal.wire` wrote."""
    return dict(zip(ENTRY_KEYS, orjson.loads(data), strict=True))


def mask_key(key: str | None) -> str | None:
    """An API key as it is shown, never whole: ``sk-li…Qz`` (first 5 and last 2), ``sk…st`` for short keys."""
    if key is None:
        return None
    if len(key) >= 10:
        return f"{key[:5]}…{key[-2:]}"
    return f"{key[:2]}…{key[-2:]}" if len(key) >= 6 else "…"


# What the hot path stores: (seq, at, method, path, query, status, duration_ms, state). Building the
# frozen record costs ~2 µs, so it is built only when someone reads the journal.
_Raw = tuple[int, float, str, str, bytes, int, float, dict[str, Any]]


def _values(item: _Raw, show_keys: bool) -> tuple[Any, ...]:
    # A raw item's record, as the tuple of its field values in `RequestRecorded`'s order.
    seq, at, method, path, query, status, duration_ms, state = item
    account = state.get("account")
    return (
        seq,
        at,
        method,
        path,
        query.decode("latin-1"),
        0 if state.get("dropped") else status,  # 0: closed without a response (disconnect)
        duration_ms,
        account if show_keys else mask_key(account),
        state.get("operation_id"),
        state.get("message_id"),
        tuple(state.get("violations", ())),
        _text(state.get("body")),
        tuple(state.get("tags", ())),
        _without_prompt(state.get("job")),
    )


def _text(excerpt: bytes | None) -> str | None:
    # The request keeps the body's first bytes as sent (`web.bodies.note_body`); decoding is left to the reader.
    return None if excerpt is None else excerpt.decode("utf-8", "replace")


def _materialise(item: RequestRecorded | _Raw, show_keys: bool = False) -> RequestRecorded:
    if isinstance(item, RequestRecorded):
        return item
    return RequestRecorded(*_values(item, show_keys))


def _without_prompt(job: dict[str, Any] | None) -> dict[str, Any] | None:
    # A create notes its whole fields (copying them per request is wasted when nobody reads the journal);
    # the entry leaves the prompt out: it is in `body`.
    return job if job is None or "prompt" not in job else {k: v for k, v in job.items() if k != "prompt"}


class Journal(BoundedLog[RequestRecorded]):
    """Append-only, size-bounded log of `RequestRecorded` entries (a `BoundedLog`).

    The hot path stores a raw tuple (`record`); the frozen record is built only when someone reads it.
    """

    def __init__(self, maxlen: int = 10_000, *, show_keys: bool = False) -> None:
        """Keep `maxlen` entries; API keys are masked (``sk-te…st``) unless `show_keys`."""
        super().__init__(maxlen, (lambda item: _materialise(item, True)) if show_keys else _materialise)
        self.show_keys = show_keys
        self.open = 0  # requests being answered now (JournalMiddleware counts them; a shared store's mirror asks)

    def wire(self, item: RequestRecorded | _Raw) -> bytes:
        """An appended item's compact JSON (`entry_from_wire` reads it back), for a shared store."""
        if isinstance(item, RequestRecorded):
            return orjson.dumps(_json_values(item))
        return orjson.dumps(_json_values(_values(item, self.show_keys)))

    def record(
        self,
        seq: int,
        at: float,
        method: str,
        path: str,
        query: bytes,
        status: int,
        duration_ms: float,
        state: dict[str, Any],
    ) -> None:
        """Record one answered request cheaply; `state` is the request's ``scope["state"]`` (not copied)."""
        self.append((seq, at, method, path, query, status, duration_ms, state))

    def entries(
        self, where: Callable[[RequestRecorded], bool] | None = None, *, message_id: str | None = None, since: int = 0
    ) -> list[RequestRecorded]:
        """Entries, optionally only those matching `where`, about one message, or after a sequence number."""
        found = super().entries(where, since=since)
        return found if message_id is None else [e for e in found if e.message_id == message_id]

    def violations(self) -> list[tuple[RequestRecorded, Violation]]:
        """Every recorded violation with the request it belongs to."""
        return [(e, v) for e in self.entries() for v in e.violations]
