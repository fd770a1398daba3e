"""The request journal: every request the mock answered, newest last, bounded.

Entries are past-tense records. QA reads them at ``GET /__mock/requests``; the
contract kit reads them to judge a client (poll rate, schema breaks, Retry-After).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
        return {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "durationMs": round(self.duration_ms, 3),
            "account": self.account,
            "operationId": self.operation_id,
            "messageId": self.message_id,
            "violations": [v.as_dict() for v in self.violations],
            "body": self.body,
            "tags": list(self.tags),
            "job": None if self.job is None else dict(self.job),
        }


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


def _materialise(item: RequestRecorded | _Raw, show_keys: bool = False) -> RequestRecorded:
    if isinstance(item, RequestRecorded):
        return item
    seq, at, method, path, query, status, duration_ms, state = item
    return RequestRecorded(
        seq=seq,
        at=at,
        method=method,
        path=path,
        query=query.decode("latin-1"),
        status=0 if state.get("dropped") else status,  # 0: closed without a response (disconnect)
        duration_ms=duration_ms,
        account=state.get("account") if show_keys else mask_key(state.get("account")),
        operation_id=state.get("operation_id"),
        message_id=state.get("message_id"),
        violations=tuple(state.get("violations", ())),
        body=state.get("body_text"),
        tags=tuple(state.get("tags", ())),
        job=_without_prompt(state.get("job")),
    )


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
