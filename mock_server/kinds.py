"""The job-kind table: for each kind of job, the job fields its request gives and what it costs.

A kind is named by the spec's classification (``x-mock-kind: create:<kind>``); the route table refuses
to start when the spec names a kind this table does not have, so the two cannot drift apart. Adding a
job-creating endpoint means adding its operation to openapi.yaml and, for a new kind, one entry here.

Costs follow the official agent skill: 6 credits per Flux image (times ``n``), 2 per upscale; polling is
free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SpecError

Fields = dict[str, Any]


@dataclass(frozen=True, slots=True)
class JobKind:
    """One kind of job.

    Attributes:
        name: the kind, as in ``x-mock-kind: create:<name>``.
        fields: the job fields (``kind``, ``timeout``, ``n``, size, format, ...) from a normalised request body.
        cost: the credits one job costs, from its fields.
    """

    name: str
    fields: Callable[[Mapping[str, Any]], Fields]
    cost: Callable[[Mapping[str, Any]], int]


def _common(body: Mapping[str, Any]) -> Fields:
    return {"ref": body.get("ref"), "webhook_url": body.get("webhookOverride")}


def _imagine(body: Mapping[str, Any]) -> Fields:
    return {
        "kind": "imagine",
        "prompt": body["prompt"],
        "timeout": int(body["timeout"]),
        "n": int(body["n"]),
        "width": int(body["width"]),
        "height": int(body["height"]),
        "fmt": body["output_format"],
        "quality": int(body["output_quality"]),
        **_common(body),
    }


def _upscale(body: Mapping[str, Any]) -> Fields:
    # The source is never fetched; the result has the scaled size of a 512 px square. No timeout is
    # documented for upscale, so it gets the longest imagine timeout.
    side = 512 * int(body["scale"])
    return {"kind": "upscale", "timeout": 900, "width": side, "height": side, **_common(body)}


KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind("imagine", _imagine, lambda f: 6 * int(f.get("n", 1))),
        JobKind("upscale", _upscale, lambda f: 2),
    )
}


def job_kind(name: str | None, where: str = "openapi.yaml") -> JobKind:
    """The table entry for `name`; SpecError naming the known kinds otherwise."""
    found = KINDS.get(name or "")
    if found is None:
        known = ", ".join(sorted(KINDS))
        raise SpecError(f"{where}: x-mock-kind create:{name} names no job kind the mock knows ({known}).")
    return found
