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

from mock_server.contract.errors import SpecError
from mock_server.domain.kinds import buttons, flux, midjourney, tools, videos
from mock_server.domain.kinds.base import Fields, FollowUp, JobKind, common

__all__ = ["KINDS", "Fields", "FollowUp", "JobKind", "common", "job_kind"]


def _table() -> dict[str, JobKind]:
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
