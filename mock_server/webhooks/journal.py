"""The webhook journal: every delivery attempt, newest last, bounded.

One `WebhookAttempted` per attempt (and one per delivery the mock decided not to send: dropped by a
fault, recorded in dry-run mode, abandoned at shutdown), so nothing is lost silently. QA reads it at
``GET /__mock/webhooks?messageId=...``; tests read it in-process from ``services.webhooks.journal``.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["delivered", "retrying", "failed", "abandoned", "dropped", "recorded", "blocked"]
EventKind = Literal["final", "progress"]


@dataclass(frozen=True, slots=True)
class WebhookAttempted:
    """One delivery attempt and how it ended.

    Attributes:
        seq: journal sequence number (1, 2, ...).
        at: mock clock time when the attempt started (epoch seconds).
        delivery_id: stable across the attempts of one delivery (also ``webhook-id`` when signed).
        message_id: the job's messageId.
        event: ``final`` (DONE/FAIL) or ``progress``.
        attempt: 1 for the first attempt; 0 when nothing was sent (dropped, or abandoned before sending).
        url: where it was sent.
        headers: the request headers sent.
        payload: the body sent, as text.
        status: the receiver's HTTP status, or None when there was no answer.
        latency_ms: time from sending to the answer or the error (0 when nothing was sent).
        error: network error, timeout or refusal text, or None.
        outcome: delivered, retrying (another attempt follows), failed (no more attempts), abandoned
            (shutdown or a full queue), dropped (fault), recorded (dry run, nothing sent), blocked (the host
            is not on the allow-list: never contacted; `error` says why).
        retry_in_s: mock seconds until the next attempt, when outcome is retrying.
        faults: the webhook faults applied to this job.
        response: the start of the receiver's answer body.
    """

    seq: int
    at: float
    delivery_id: str
    message_id: str
    event: EventKind
    attempt: int
    url: str
    headers: dict[str, str]
    payload: str
    status: int | None
    latency_ms: float
    error: str | None
    outcome: Outcome
    retry_in_s: float | None = None
    faults: tuple[str, ...] = ()
    response: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (camelCase, like the API)."""
        return {
            "seq": self.seq,
            "at": self.at,
            "deliveryId": self.delivery_id,
            "messageId": self.message_id,
            "event": self.event,
            "attempt": self.attempt,
            "url": self.url,
            "headers": dict(self.headers),
            "payload": self.payload,
            "status": self.status,
            "latencyMs": round(self.latency_ms, 3),
            "error": self.error,
            "outcome": self.outcome,
            "retryInS": self.retry_in_s,
            "faults": list(self.faults),
            "response": self.response,
        }


class WebhookJournal:
    """Append-only, size-bounded log of `WebhookAttempted` (thread-safe; the oldest drop out when full)."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._entries: deque[WebhookAttempted] = deque(maxlen=maxlen)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def next_seq(self) -> int:
        """Reserve the next sequence number."""
        with self._lock:
            return next(self._seq)

    def append(self, entry: WebhookAttempted) -> None:
        """Record one attempt."""
        with self._changed:
            self._entries.append(entry)
            self._changed.notify_all()

    def entries(
        self, *, message_id: str | None = None, delivery_id: str | None = None, since: int = 0
    ) -> list[WebhookAttempted]:
        """Attempts, optionally only one job's or one delivery's, or those after a sequence number."""
        with self._lock:
            items = list(self._entries)
        return [
            e
            for e in items
            if e.seq > since
            and (message_id is None or e.message_id == message_id)
            and (delivery_id is None or e.delivery_id == delivery_id)
        ]

    def wait_for(self, count: int, *, message_id: str | None = None, timeout: float = 5.0) -> list[WebhookAttempted]:
        """Block until at least `count` matching attempts are journalled (TimeoutError after `timeout` s)."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: sum(1 for e in self._entries if message_id is None or e.message_id == message_id) >= count,
                timeout,
            )
        found = self.entries(message_id=message_id)
        if not ok:
            raise TimeoutError(f"{len(found)} webhook attempt(s) journalled within {timeout} s; expected {count}")
        return found

    def clear(self) -> None:
        """Drop every entry and restart numbering."""
        with self._lock:
            self._entries.clear()
            self._seq = itertools.count(1)

    def __iter__(self) -> Iterator[WebhookAttempted]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
