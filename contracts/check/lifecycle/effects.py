"""Effects of the lifecycle run outside the answers: what the account's history shows once every job has ended.

The history (x-mock-kind ``read``, tagged ``history``: ``GET /api/v1/nova/images``) must list every image job the
run made that reached DONE, newest first, each with its kind as ``type`` and the button that made it (``""`` for
jobs no button made). Read page by page (100 per page) until every job is found or a page comes back short.
"""

from __future__ import annotations

from typing import Any

from contracts import checks
from contracts.check.lifecycle.plans import JobPlan
from contracts.check.lifecycle.polling import SUITE
from contracts.core.calls import Caller, json_or_none
from contracts.core.reporting import Outcome
from contracts.core.schema import contract

PAGE = 100  # the Size parameter's maximum
MAX_PAGES = 10


def _history_path() -> str | None:
    spec = contract()
    for op in spec.by_role("read"):
        tags = spec.document["paths"][op.path][op.method.lower()].get("tags", [])
        if "history" in tags and op.method == "GET":
            return op.path
    return None


def made(plans: list[JobPlan]) -> list[tuple[str, str, str]]:
    """(messageId, kind, button) of every job of `plans` that ended DONE with images."""
    found = []
    for plan in plans:
        images = plan.result.get("images")
        if plan.message_id is None or plan.result.get("status") != "DONE" or not isinstance(images, list) or not images:
            continue
        button = str(plan.body.get("button", "")) if plan.kind == "button" else ""
        found.append((plan.message_id, plan.kind, button))
    return found


async def history(caller: Caller, plans: list[JobPlan]) -> Outcome:
    """Check the history lists the run's DONE image jobs (see the module docstring)."""
    outcome = Outcome(SUITE, "history lists every job made, newest first")
    path = _history_path()
    expected = made(plans)
    if path is None or not expected:
        outcome.escalate(
            "skipped", "no history operation in the contract" if path is None else "no image job ended DONE"
        )
        return outcome
    entries: list[Any] = []
    wanted = {mid for mid, _, _ in expected}
    for page in range(1, MAX_PAGES + 1):
        answer = await caller.send("GET", f"{path}?page={page}&size={PAGE}")
        body = json_or_none(answer)
        images = body.get("images") if isinstance(body, dict) else None
        if answer.status_code != 200 or not isinstance(images, list):
            outcome.escalate("skipped", f"the history answered {answer.status_code}: its effects cannot be read")
            return outcome
        entries += images
        if len(images) < PAGE or wanted <= {e.get("id") for e in entries if isinstance(e, dict)}:
            break
    found = checks.history_lists_jobs(entries, expected, operation=f"GET {path}")
    outcome.fail(f.with_context(curl=caller.curl("GET", f"{path}?page=1&size={PAGE}")) for f in found)
    outcome.detail = f"{len(expected)} job(s) looked up among {len(entries)} entries"
    return outcome
