"""The webhook journal: every delivery attempt, newest last, bounded.

One `WebhookAttempted` per attempt (and one per delivery the mock decided not to send: dropped by a
fault, recorded in dry-run mode, abandoned at shutdown), so nothing is lost silently. QA reads it at
``GET /__mock/webhooks?messageId=...``; tests read it in-process from ``services.webhooks.journal``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from mock_server.domain.records.log import BoundedLog

Outcome = Literal["delivered", "retrying", "failed", "abandoned", "dropped", "recorded", "blocked", "error"]
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
            is not on the allow-list: never contacted; `error` says why), error (the mock itself failed while
            delivering, e.g. a bug or an unexpected exception; `error` names it: the delivery ends there).
        retry_in_s: mock seconds until the next attempt, when outcome is retrying.
        faults: the webhook faults applied to this job.
        response: the start of the receiver's answer body.
        takeover: with a shared store, how many times a worker took this delivery over after its holder's lease
            ran out (it died mid-delivery): the receiver may get it more than once, with the same delivery id.
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
    takeover: int = 0  # times another worker took this delivery over (its holder died): the receiver may see it twice

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
            "takeover": self.takeover,
        }


class WebhookJournal(BoundedLog[WebhookAttempted]):
    """Append-only, size-bounded log of `WebhookAttempted` (a `BoundedLog`; the oldest drop out when full)."""

    def entries(
        self,
        where: Callable[[WebhookAttempted], bool] | None = None,
        *,
        message_id: str | None = None,
        delivery_id: str | None = None,
        since: int = 0,
    ) -> list[WebhookAttempted]:
        """Attempts, optionally only one job's or one delivery's, or those after a sequence number."""
        return super().entries(_about(where, message_id, delivery_id), since=since)

    def wait_for(
        self,
        count: int,
        where: Callable[[WebhookAttempted], bool] | None = None,
        *,
        message_id: str | None = None,
        timeout: float = 5.0,
    ) -> list[WebhookAttempted]:
        """Block until at least `count` matching attempts are journalled (TimeoutError after `timeout` s)."""
        try:
            return super().wait_for(count, _about(where, message_id, None), timeout=timeout)
        except TimeoutError:
            found = len(self.entries(where, message_id=message_id))
            raise TimeoutError(f"{found} webhook attempt(s) journalled within {timeout} s; expected {count}") from None


def _about(
    where: Callable[[WebhookAttempted], bool] | None, message_id: str | None, delivery_id: str | None
) -> Callable[[WebhookAttempted], bool] | None:
    if message_id is None and delivery_id is None:
        return where
    return lambda e: (
        (message_id is None or e.message_id == message_id)
        and (delivery_id is None or e.delivery_id == delivery_id)
        and (where is None or where(e))
    )
