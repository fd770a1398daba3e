"""What every job kind is made of: `JobKind`, the job `Fields` it yields, `FollowUp` and the `common` fields."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mock_server.contract.errors import SpecError
from mock_server.contract.prices import Price
from mock_server.contract.spec import job_timeout, load_spec

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
        cost: the credits one job costs, from its fields (`priced`: openapi.yaml's ``x-credits`` for the kind).
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


def priced(kind: str) -> Callable[[Mapping[str, Any]], int]:
    """A kind's `JobKind.cost`: the ``x-credits`` its create operations carry in openapi.yaml, read on first use."""

    def cost(fields: Mapping[str, Any]) -> int:
        return _price(kind).of(fields)

    return cost


@functools.cache
def _price(kind: str) -> Price:
    spec = load_spec()
    prices = {op.operation_id: spec.price(op.operation_id) for op in spec.by_role("create") if op.job_kind == kind}
    unpriced = sorted(op for op, price in prices.items() if price is None)
    if unpriced:
        raise SpecError(f"{spec.source}: {', '.join(unpriced)} create {kind} jobs but give no x-credits; add one.")
    if len(set(prices.values())) > 1:
        raise SpecError(
            f"{spec.source}: the operations creating {kind} jobs ({', '.join(prices)}) give different x-credits; "
            "a kind has one price: share one block through a YAML anchor."
        )
    if not prices:
        raise SpecError(f"{spec.source}: no operation creates {kind} jobs (x-mock-kind create:{kind}).")
    return next(price for price in prices.values() if price is not None)
