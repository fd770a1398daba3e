"""The lifecycle half of ``flux-mock check``: create real jobs of every kind, poll them to DONE or FAIL on all
their progress paths, and apply every check of `contracts.checks` (the kind's DONE shape included).

Which jobs, in which order, and how follow-ups get their target: `plans`. How one job is created and polled:
`polling`. Around them this module runs:

- the budget, claimed up front in priority order: Flux first (any room), the other kinds only while `SPARE`
  jobs stay for the probes, so a small ``--max-jobs`` spends itself on Flux and nothing else is sent;
- ``credits_match_charges``: every create goes through the `ledger`, one at a time, with account-info read
  around it: each must lower the balance by openapi.yaml's ``x-credits`` price (skipped without a finite balance);
- ``queue_holds_jobs`` (`queue`): where the server says how many jobs a key runs at once, the job created after
  that many waits QUEUED until one of them ends;
- ``button_needs_done_target``: a button pressed on the Midjourney grid while it is not DONE yet, and, once
  DONE, a button it does not offer: both must be refused with 409 (each is sent within the budget, since a
  server that accepts it creates a job).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx

from contracts import checks
from contracts.check.lifecycle.actions import Actions
from contracts.check.lifecycle.effects import history
from contracts.check.lifecycle.ledger import Ledger
from contracts.check.lifecycle.plans import SPARE, JobPlan, LifecycleSettings, job_plans
from contracts.check.lifecycle.polling import SUITE, WebhookInbox, create, follow, poll_operations
from contracts.check.lifecycle.queue import QueueWatch, concurrency
from contracts.core.budget import JobBudget
from contracts.core.calls import Caller, json_or_none
from contracts.core.failures import ContractFailure
from contracts.core.reporting import Outcome
from contracts.core.schema import contract


def _claim(budget: JobBudget, plans: list[JobPlan]) -> dict[str, bool]:
    """Reserve one job per plan, in priority order: core plans while there is room, the others leaving SPARE."""
    claimed = {}
    # The --v 5 chain only adds buttons the others cannot show: under a budget it comes after every other kind.
    for plan in sorted(plans, key=lambda p: p.only_upscalers):
        remaining = budget.remaining
        if plan.core or remaining is None or remaining > SPARE:
            claimed[plan.name] = budget.reserve()
        else:
            budget.hold_back()
            claimed[plan.name] = False
    return claimed


async def run_jobs(
    caller: Caller,
    budget: JobBudget,
    settings: LifecycleSettings,
    *,
    inbox: WebhookInbox | None = None,
    count: int | None = None,
    notes: list[str] | None = None,
) -> list[Outcome]:
    """Create the jobs of `job_plans` (the first `count`; budget permitting), follow each to the end, and return
    one outcome per job, plus the credits, button-refusal and `actions` outcomes (their coverage goes to `notes`)."""
    plans = job_plans(settings, inbox.url if inbox else None)[:count]
    ledger = Ledger(caller)
    await ledger.open()
    slots = await concurrency(caller)
    queue = QueueWatch(caller, ledger, settings, slots)
    watching = asyncio.ensure_future(queue.run())
    actions = Actions(caller, budget, settings, inbox, ledger)
    outcomes = {plan.name: Outcome(SUITE, f"job {plan.name}") for plan in plans}
    extra: list[Outcome] = []
    claimed = _claim(budget, plans)
    by_name = {plan.name: plan for plan in plans}
    dependents: dict[str, list[JobPlan]] = {}
    for plan in plans:
        if plan.after is not None:
            dependents.setdefault(plan.after, []).append(plan)

    async def run(plan: JobPlan, created: asyncio.Event | None = None) -> None:
        try:
            await _run(plan, created)
        finally:
            if created is not None:
                created.set()

    async def _run(plan: JobPlan, created: asyncio.Event | None) -> None:
        outcome = outcomes[plan.name]
        if not claimed[plan.name]:
            outcome.escalate("skipped", f"held back: the --max-jobs budget is spent (or kept for {SPARE} probes)")
            await release(plan, "its prerequisite was held back")
            return
        started = caller.timer.now()
        found: list[ContractFailure] = []
        try:
            await create(caller, budget, plan, outcome, found, ledger)
            if created is not None:
                created.set()
            early = not plan.only_upscalers  # the first grid's chain checks the refusals once
            if early and plan.message_id is not None and any(d.kind == "button" for d in dependents.get(plan.name, [])):
                extra.append(await _press_too_early(caller, budget, ledger, plan))
            await follow(caller, settings, plan, outcome, inbox, found)
        except httpx.HTTPError as exc:  # the server went away or timed out: report it, keep the other jobs going
            outcome.escalate("error", f"{type(exc).__name__}: {exc}")
        finally:
            outcome.seconds = max(0.0, caller.timer.now() - started)
            outcome.fail(found)
        if plan.kind == "mj-imagine" and not plan.only_upscalers and plan.result.get("status") == "DONE":
            extra.append(await _press_not_offered(caller, budget, ledger, plan))
        # The plan's own follow-ups are created first: pressed after them, the actions' jobs (a dozen, on a server
        # with a few slots per key) would queue ahead of the chain that leads to the next stage.
        follow_ups = dependents.get(plan.name, [])
        made = [asyncio.Event() for _ in follow_ups]
        await asyncio.gather(
            *(start(d, plan, event) for d, event in zip(follow_ups, made, strict=True)),
            actions.after(plan, before=[event.wait() for event in made]),
        )

    async def start(plan: JobPlan, source: JobPlan, created: asyncio.Event | None = None) -> None:
        reason = None
        if source.result.get("status") != "DONE":
            reason = f"the {source.name} job it acts on did not reach DONE"
        elif plan.prepare is not None:
            reason = plan.prepare(plan, source.result)
        if reason is not None:
            outcomes[plan.name].escalate("skipped", reason)
            await release(plan, reason)
            if created is not None:
                created.set()
            return
        await run(plan, created)

    async def release(plan: JobPlan, reason: str) -> None:
        """A plan that will not run gives its claim back, and so do its dependents."""
        if claimed.get(plan.name) and plan.message_id is None and outcomes[plan.name].status == "skipped":
            budget.settle(False)
            claimed[plan.name] = False
        for dependent in dependents.get(plan.name, []):
            outcomes[dependent.name].escalate("skipped", f"{plan.name} did not run: {reason}")
            await release(dependent, reason)

    roots = [plan for plan in plans if plan.after is None or plan.after not in by_name]
    for plan in roots:
        if plan.prepare is not None and plan.after not in by_name:
            outcomes[plan.name].escalate("skipped", "no job of the kind it acts on is planned")
    ready = [plan for plan in roots if outcomes[plan.name].status != "skipped"]
    if ready:
        # The first job is created alone: the Cancel Job target copies it once it is known to be accepted.
        first = ready[0]
        created = asyncio.Event()
        first_task = asyncio.ensure_future(run(first, created))
        await created.wait()
        grid = next((p for p in ready if p.kind == "mj-imagine" and not p.only_upscalers and claimed[p.name]), None)
        cancel = [actions.cancel_running(grid)] if grid is not None else []
        await asyncio.gather(first_task, *(run(plan) for plan in ready[1:]), *cancel)
        extra.append(await history(caller, [*plans, *actions.plans]))
    extra.append(ledger.charges())
    if not watching.done():  # fewer jobs were created than the key runs at once, plus one
        watching.cancel()
        queue.give_up(f"the run created {len(ledger.created)} job(s): too few to fill the key's slots and queue one")
    with contextlib.suppress(asyncio.CancelledError):
        await watching
    extra.append(queue.outcome)
    if notes is not None:
        notes.append(actions.coverage.summary())
    return [*outcomes.values(), *extra, *actions.outcomes]


def _button_operation() -> str | None:
    ops = [op for op in contract().by_role("create") if op.job_kind == "button"]
    return ops[0].operation_id if ops else None


async def _press(
    caller: Caller, budget: JobBudget, ledger: Ledger, operation_id: str, body: dict[str, Any], label: str
) -> httpx.Response | None:
    if not budget.reserve():
        return None
    created = False
    try:
        response = await ledger.send(operation_id, body, label)
        created = response.is_success
    finally:
        budget.settle(created)
    caller.cost.add(jobs=int(created))
    return response


async def _press_too_early(caller: Caller, budget: JobBudget, ledger: Ledger, grid: JobPlan) -> Outcome:
    """Press U1 on the grid before it is DONE: a correct server refuses it (409)."""
    outcome = Outcome(SUITE, "button on a message that is not DONE -> 409")
    button_op = _button_operation()
    path = contract().operation(button_op).path if button_op is not None else None
    target = str(grid.message_id)
    fetch = poll_operations(grid.operation_id)[0][1].replace("{messageId}", target)
    before = json_or_none(await caller.send("GET", fetch))
    if button_op is None or path is None or not isinstance(before, dict) or before.get("status") == "DONE":
        outcome.escalate("skipped", "the grid was DONE before a button could be pressed on it early")
        return outcome
    body = {"messageId": target, "button": "U1"}
    response = await _press(caller, budget, ledger, button_op, body, "U1 pressed early")
    if response is None:
        outcome.escalate("skipped", "held back: the --max-jobs budget is spent")
        return outcome
    after = json_or_none(await caller.send("GET", fetch))
    still = after.get("status") if isinstance(after, dict) else None
    found = checks.button_refused(response.status_code, json_or_none(response), status=str(still), operation=path)
    if response.is_success and still == "DONE":
        outcome.escalate("skipped", "the grid became DONE while the early press was in flight: inconclusive")
        return outcome
    outcome.fail(f.with_context(curl=caller.curl("POST", path, body)) for f in found)
    return outcome


async def _press_not_offered(caller: Caller, budget: JobBudget, ledger: Ledger, grid: JobPlan) -> Outcome:
    """Press a button the DONE grid does not list: a correct server refuses it (409)."""
    outcome = Outcome(SUITE, "button the message does not offer -> 409")
    button_op = _button_operation()
    path = contract().operation(button_op).path if button_op is not None else None
    offered = set(grid.result.get("buttons") or [])
    schema = contract().schema("ButtonRequest")["properties"]["button"]
    unknown = [b for b in schema.get("enum", []) if b not in offered and b not in ("Cancel Job", "Vary (Region)")]
    if button_op is None or path is None or not unknown:
        outcome.escalate("skipped", "every button of the contract is offered by the grid")
        return outcome
    body = {"messageId": grid.message_id, "button": unknown[-1]}
    response = await _press(caller, budget, ledger, button_op, body, f"{unknown[-1]} (not offered)")
    if response is None:
        outcome.escalate("skipped", "held back: the --max-jobs budget is spent")
        return outcome
    found = checks.button_refused(response.status_code, json_or_none(response), offered=sorted(offered), operation=path)
    outcome.fail(f.with_context(curl=caller.curl("POST", path, body)) for f in found)
    return outcome


__all__ = ["SUITE", "JobPlan", "LifecycleSettings", "WebhookInbox", "job_plans", "run_jobs"]
