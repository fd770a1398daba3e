"""The job-kind table: for each kind of job, the job fields its request gives, what it costs, and what it
shows when DONE (media, buttons, content), in one place.

A kind is named by the spec's classification (``x-mock-kind: create:<kind>``); the route table refuses to
start when the spec names a kind this table does not have, so the two cannot drift apart. Adding a
job-creating endpoint means adding its operation to openapi.yaml and, for a new kind, one entry here.

Costs follow the official agent skill where it gives them (Flux 6 per image, Flux upscale 2, Midjourney
imagine 10 fast / 5 relax, upscale and variation buttons 5, Nano Banana and Lumi Girl 6, video 10,
remove-bg 5); the others are the mock's choices, marked ``x-inferred`` in the README's table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mock_server.contract.errors import SpecError
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


def _table() -> dict[str, JobKind]:
    from mock_server.domain.kinds import buttons, flux, midjourney, tools, videos

    kinds = [*flux.KINDS, *midjourney.KINDS, buttons.BUTTON, *tools.KINDS, *videos.KINDS]
    return {kind.name: kind for kind in kinds}


KINDS: dict[str, JobKind] = _table()


def job_kind(name: str | None, where: str = "openapi.yaml") -> JobKind:
    """The table entry for `name`; SpecError naming the known kinds otherwise."""
    found = KINDS.get(name or "")
    if found is None:
        known = ", ".join(sorted(KINDS))
        raise SpecError(f"{where}: x-mock-kind create:{name} names no job kind the mock knows ({known}).")
    return found
