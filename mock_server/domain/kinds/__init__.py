"""The job-kind table: for each kind of job, the job fields its request gives, what it costs, and what it
shows when DONE (media, buttons, content), in one place.

A kind is named by the spec's classification (``x-mock-kind: create:<kind>``); the route table refuses to
start when the spec names a kind this table does not have, so the two cannot drift apart. Adding a
job-creating endpoint means adding its operation to openapi.yaml and, for a new kind, one entry here.

What a job costs is not restated here: each kind's cost is the ``x-credits`` of its create operations in
openapi.yaml (`base.priced`), where the official agent skill's prices are written and the mock's own choices are
marked ``x-inferred``; ``flux-mock check`` reads the same blocks.
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
