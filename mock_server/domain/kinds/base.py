"""What every job kind is made of: `JobKind`, the job `Fields` it yields, `FollowUp` and the `common` fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mock_server.contract.spec import job_timeout

if TYPE_CHECKING:
    from mock_server.domain.jobs import Job

Fields = dict[str, Any]


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What a kind that acts on an earlier message (a button, a video extend, a command) may consult."""

    job_of: Callable[[str], Job | None]  # the caller's own job with this id, or None
    now: float
    plan_type: str


@dataclass(frozen=True, slots=True)
class JobKind:
    """One kind of job.

    Attributes:
        name: the kind, as in ``x-mock-kind: create:<name>``.
        fields: the job fields (``kind``, ``timeout``, size, ``media``, ``buttons``, ...) from a normalised body.
        cost: the credits one job costs, from its fields.
        progress_step: progress moves in multiples of this while PROCESSING (1 for Flux).
        pace: how much longer than ``--job-seconds`` the job takes (relax mode is slower).
        follow_up: for kinds that act on an earlier message: completes the fields from that message, or raises
            HttpError (400 naming what is offered, 404 for an unknown message); may return ``{"action": "cancel"}``.
    """

    name: str
    fields: Callable[[Mapping[str, Any]], Fields]
    cost: Callable[[Mapping[str, Any]], int]
    progress_step: int = 1
    pace: Callable[[Mapping[str, Any]], float] = lambda fields: 1.0
    follow_up: Callable[[Fields, FollowUp], Fields] | None = None


def common(body: Mapping[str, Any]) -> Fields:
    """The fields every kind takes from its body: ref, webhook and timeout."""
    timeout = body.get("timeout")
    return {
        "ref": body.get("ref"),
        "webhook_url": body.get("webhookOverride"),
        "timeout": int(timeout or job_timeout().default),
    }
