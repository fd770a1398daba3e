"""Checks on what a server must refuse or account for: buttons pressed out of turn, and the credits it charges."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts.checks.errors import refused
from contracts.core.failures import ContractFailure

CONFLICT = 409  # the spec's Conflict answer: a valid request the target message's state refuses


UNLIMITED = 2_147_483_647  # how account-info shows an unlimited balance (AccountInfo's x-inferred): nothing to compare


def button_refused(
    status_code: int,
    body: Any,
    *,
    status: str | None = None,
    offered: Sequence[str] | None = None,
    operation: str | None = None,
) -> list[ContractFailure]:
    """A button pressed on a message that is not DONE (`status`), or one it does not offer (`offered`), gets 409
    in the NestJS shape and creates no job."""
    if offered is not None:
        why = f"a button the message does not offer (it offers {', '.join(offered) or 'none'})"
        fix = "refuse a button the target does not list in buttons"
    else:
        why = f"a button pressed on a message that is {status}, not DONE"
        fix = "refuse buttons until the target message is DONE"
    return refused(
        "button_needs_done_target",
        CONFLICT,
        status_code,
        body,
        what=why,
        must=f"it must answer 409 (Conflict) and create no job: {fix}",
        pointer="/button" if offered is not None else "/messageId",
        operation=operation,
    )


def credits_match_charges(
    before: int,
    after: int | None,
    cost: int,
    *,
    job: str | None = None,
    operation: str | None = None,
    action: str | None = None,
) -> list[ContractFailure]:
    """account-info's credits fell by exactly `cost` across one created job (nothing else in flight); `action`
    names what was sent (e.g. ``press V1 on the grid (mjButton, x-credits 5)``)."""
    if after is not None and before - after == cost:
        return []
    shown = "no credits" if after is None else f"{after} (a change of {after - before:+d})"
    what = action or "the job"
    return [
        ContractFailure(
            "credits_match_charges",
            f"account-info showed {before} credits before {what} and {shown} after it; a job costing {cost} "
            f"credits (openapi.yaml's x-credits for its operation) must lower the balance by exactly {cost}",
            operation or "GET /api/v1/subscription/account-info",
            "/credits",
            before - cost,
            after,
            message_id=job,
        )
    ]
