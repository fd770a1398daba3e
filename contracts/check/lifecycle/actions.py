"""The documented actions the lifecycle run presses beyond one job per kind, and what each must do.

- **every button at each stage**: once the Midjourney grid is DONE, each button it offers (U1 is the ``button``
  job of `plans`); once that upscale is DONE, each button it offers (Vary (Region) with a mask); once an image an
  upscaler made is DONE, each Redo Upscale it offers (one stage more, only those: its other buttons are the
  upscale's again). On the ``--v 5`` chain (`JobPlan.only_upscalers`) only the upscale buttons are pressed (v5's
  2x/4x, then their Redo). Every pressed job is followed like any lifecycle job (its ``originatingMessageId`` must
  name the pressed message) and must lead to the documented stage (`checks.button_leads_to_stage`);
- **Vary (Region) without a mask**: refused with 400;
- **Cancel Job**: on a job of its own, pressed while it runs: the answer names it, it ends FAIL with an error at
  the progress it had on every poll path (and in its webhook), and a second Cancel Job is refused with 409; on the
  DONE grid, refused with 409;
- **video extend for every result index** (index 0 is the ``video-extend`` job of `plans`).

Each pressed job is claimed from the budget like the other non-Flux jobs (only while `SPARE` stay). `Coverage`
records which actions ran and which were skipped and why, for the report's summary.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any

from contracts import checks
from contracts.check.lifecycle.ledger import Ledger
from contracts.check.lifecycle.plans import SPARE, JobPlan, LifecycleSettings
from contracts.check.lifecycle.polling import SUITE, WebhookInbox, create, follow, poll_operations
from contracts.checks.actions import CANCEL, VARY_REGION
from contracts.core.budget import JobBudget
from contracts.core.calls import Caller, json_or_none
from contracts.core.failures import ContractFailure
from contracts.core.reporting import Outcome
from contracts.core.schema import contract

# The pressed jobs are judged on their final message: they are polled this many times less often than the others.
SPARSE = 2
UPSCALERS = ("Upscale (", "Redo Upscale (")  # how every upscale button's label starts (ButtonRequest's enum)
REDO = "Redo Upscale ("
# A 1x1 greyscale PNG: the smallest image a mask can be (white: repaint everything).
MASK = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGP4DwABAQEAsTj2FAAAAABJRU5ErkJggg=="


@dataclass
class Coverage:
    """Which documented actions a run pressed, and why the others were not."""

    pressed: set[str] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the report: every button of the contract, pressed or not (and why)."""
        schema = contract().schema("ButtonRequest")["properties"]["button"]
        buttons = [b for b in schema.get("enum", []) if isinstance(b, str)]
        done = [b for b in buttons if b in self.pressed]
        extends = sorted(a for a in self.pressed if a.startswith("extend"))
        missing = [
            f"{b} ({self.skipped.get(b, 'no message of this run offered it')})" for b in buttons if b not in done
        ]
        text = f"actions pressed: {', '.join(done + extends) or 'none'}"
        return text + (f"; not pressed: {', '.join(missing)}" if missing else "")


def _claim(budget: JobBudget) -> bool:
    remaining = budget.remaining
    if remaining is None or remaining > SPARE:
        return budget.reserve()
    budget.hold_back()
    return False


def _button_operation() -> str | None:
    ops = [op for op in contract().by_role("create") if op.job_kind == "button"]
    return ops[0].operation_id if ops else None


def _button_path() -> str | None:
    operation_id = _button_operation()
    return contract().operation(operation_id).path if operation_id is not None else None


class Actions:
    """Presses the actions of one run (see the module docstring) and collects their outcomes."""

    def __init__(
        self,
        caller: Caller,
        budget: JobBudget,
        settings: LifecycleSettings,
        inbox: WebhookInbox | None,
        ledger: Ledger,
    ) -> None:
        self.caller, self.budget, self.settings, self.inbox, self.ledger = caller, budget, settings, inbox, ledger
        self.coverage = Coverage()
        self.outcomes: list[Outcome] = []
        self.plans: list[JobPlan] = []  # every job pressed, once followed

    async def after(self, plan: JobPlan, before: Sequence[Awaitable[Any]] = ()) -> None:
        """What to press once `plan` has ended (nothing unless it is DONE), once `before` (the creation of the
        plan's own follow-ups) is done."""
        await asyncio.gather(*before)
        if plan.result.get("status") != "DONE" or plan.message_id is None:
            return
        if plan.kind == "mj-imagine":
            self.coverage.pressed.add("U1")
            if not plan.only_upscalers:  # the v5 grid's own buttons are the first grid's: pressed there
                await asyncio.gather(self._cancel_after_end(plan), self._press_all(plan, "grid", skip=("U1",)))
        elif plan.kind == "button" and plan.body.get("button") in ("U1", "U2", "U3", "U4"):
            if plan.only_upscalers:
                await self._press_all(plan, "v5 upscale", only=UPSCALERS)
            else:
                await asyncio.gather(self._vary_without_mask(plan), self._press_all(plan, "upscale"))
        elif plan.kind == "video":
            await self._extend_all(plan)
        elif plan.kind == "video-extend":
            self.coverage.pressed.add(f"extend {plan.body.get('index')}")

    async def _job(self, name: str, plan: JobPlan) -> Outcome | None:
        """Create and follow one pressed job (`plan.result` is then its final message); its outcome, None when the
        budget held it back."""
        outcome = Outcome(SUITE, name)
        self.outcomes.append(outcome)
        if not _claim(self.budget):
            outcome.escalate("skipped", f"held back: the --max-jobs budget is spent (or kept for {SPARE} probes)")
            return None
        started = self.caller.timer.now()
        found: list[ContractFailure] = []
        self.plans.append(plan)
        try:
            await create(self.caller, self.budget, plan, outcome, found, self.ledger)
            sparse = dataclasses.replace(self.settings, poll_interval=self.settings.poll_interval * SPARSE)
            # Result files of each kind are downloaded by its own job; rendering 100 more images would cost more
            # than the rest of the run.
            await follow(self.caller, sparse, plan, outcome, None, found, downloads=False)
        finally:
            outcome.seconds = max(0.0, self.caller.timer.now() - started)
            outcome.fail(found)
        return outcome

    async def _press_all(
        self, target: JobPlan, stage: str, skip: tuple[str, ...] = (), only: tuple[str, ...] = ("",)
    ) -> None:
        """Press every button `target` offers but `skip`, among those starting with one of `only` (all by default);
        where the image a pressed upscaler made offers Redo Upscale, press that too (one stage more)."""
        buttons = target.result.get("buttons") or []
        offered = [b for b in buttons if isinstance(b, str) and b not in skip and b.startswith(only)]
        button_op = next((op.operation_id for op in contract().by_role("create") if op.job_kind == "button"), None)
        if button_op is None:
            return

        async def press(button: str) -> None:
            if button == CANCEL:
                return
            body: dict[str, Any] = {
                "messageId": target.message_id,
                "button": button,
                "timeout": self.settings.job_timeout,
            }
            if button == VARY_REGION:
                body["mask"] = MASK
            plan = JobPlan(f"{button} on {target.name}", button_op, body, "button", origin=target.message_id)
            outcome = await self._job(f"press {button} on the {stage}", plan)
            if outcome is None:
                self.coverage.skipped.setdefault(button, "held back by the --max-jobs budget")
                return
            self.coverage.pressed.add(button)
            outcome.fail(checks.button_leads_to_stage(plan.result, button))
            if button.startswith(UPSCALERS[0]) and not button.startswith(REDO) and plan.message_id is not None:
                await self._press_all(plan, f"image of {button}", only=(REDO,))

        await asyncio.gather(*(press(b) for b in offered))

    async def _extend_all(self, video: JobPlan) -> None:
        ops = [op.operation_id for op in contract().by_role("create") if op.job_kind == "video-extend"]
        results = video.result.get("results")
        if not ops or not isinstance(results, list):
            return
        indexes = [int(r["index"]) for r in results if isinstance(r, dict) and isinstance(r.get("index"), int)]

        async def extend(index: int) -> None:
            body = {"messageId": video.message_id, "index": index, "timeout": self.settings.job_timeout}
            plan = JobPlan(f"extend {index}", ops[0], body, "video-extend", origin=video.message_id)
            if await self._job(f"video extend of result {index}", plan) is not None:
                self.coverage.pressed.add(f"extend {index}")

        await asyncio.gather(*(extend(i) for i in indexes if i != 0))

    async def _vary_without_mask(self, upscale: JobPlan) -> None:
        outcome = Outcome(SUITE, "Vary (Region) without a mask -> 400")
        self.outcomes.append(outcome)
        path, button_op = _button_path(), _button_operation()
        if path is None or button_op is None or VARY_REGION not in (upscale.result.get("buttons") or []):
            outcome.escalate("skipped", "the upscaled image does not offer Vary (Region)")
            return
        body = {"messageId": upscale.message_id, "button": VARY_REGION}
        if not self.budget.reserve():  # a server that wrongly accepts it makes a job
            outcome.escalate("skipped", "held back: the --max-jobs budget is spent")
            return
        response = await self.ledger.send(button_op, body, "Vary (Region) without a mask")
        self.budget.settle(response.is_success)
        self.caller.cost.add(jobs=int(response.is_success))
        found = checks.vary_region_needs_mask(response.status_code, json_or_none(response), operation=f"POST {path}")
        outcome.fail(f.with_context(curl=self.caller.curl("POST", path, body)) for f in found)

    async def _cancel_after_end(self, grid: JobPlan) -> None:
        outcome = Outcome(SUITE, "Cancel Job on a DONE job -> 409")
        self.outcomes.append(outcome)
        outcome.fail(await self._cancel_refused(str(grid.message_id), "DONE"))

    async def _cancel_refused(self, target: str, status: str) -> list[ContractFailure]:
        path, button_op = _button_path(), _button_operation()
        if path is None or button_op is None:
            return []
        body = {"messageId": target, "button": CANCEL}
        response = await self.ledger.send(button_op, body, f"Cancel Job on a {status} job")
        found = checks.cancel_needs_running_target(
            response.status_code, json_or_none(response), status=status, operation=f"POST {path}"
        )
        return [f.with_context(curl=self.caller.curl("POST", path, body), message_id=target) for f in found]

    async def cancel_running(self, template: JobPlan) -> None:
        """Create a job like `template`, press Cancel Job while it runs, and check what follows."""
        outcome = Outcome(SUITE, "Cancel Job on a running job")
        self.outcomes.append(outcome)
        path = _button_path()
        if path is None:
            outcome.escalate("skipped", "the contract has no button operation")
            return
        if not _claim(self.budget):
            outcome.escalate("skipped", f"held back: the --max-jobs budget is spent (or kept for {SPARE} probes)")
            self.coverage.skipped[CANCEL] = "held back by the --max-jobs budget"
            return
        body = {**template.body, "prompt": f"{template.body.get('prompt', 'a job')} (to cancel)"}
        if self.inbox is not None:
            body["webhookOverride"] = self.inbox.url
        plan = JobPlan("cancel target", template.operation_id, body, template.kind, ref=template.ref)
        found: list[ContractFailure] = []
        try:
            target = await create(self.caller, self.budget, plan, outcome, found, self.ledger)
            if target is not None:
                await self._cancel(outcome, plan, target, path, found)
        finally:
            outcome.fail(found)

    async def _cancel(
        self, outcome: Outcome, plan: JobPlan, target: str, path: str, found: list[ContractFailure]
    ) -> None:
        fetches = [t.replace("{messageId}", target) for _, t in poll_operations(plan.operation_id)]
        deadline = self.caller.timer.now() + self.settings.job_timeout
        message: Any = None
        # Wait until it runs (progress above 0), polling every path back to back, four times as often as the other
        # jobs: the press must land before the job ends.
        while self.caller.timer.now() < deadline:
            answers = [json_or_none(await self.caller.send("GET", fetch)) for fetch in fetches]
            message = answers[0]
            if not isinstance(message, dict) or message.get("status") not in ("QUEUED", "PROCESSING"):
                break  # final, or not a Message: the job's own polling reports what is wrong
            if isinstance(message.get("progress"), int) and message["progress"] > 0:
                break
            await self.caller.timer.sleep(self.settings.poll_interval / 4)
        if not isinstance(message, dict) or message.get("status") not in ("QUEUED", "PROCESSING"):
            shown = message.get("status") if isinstance(message, dict) else message
            outcome.escalate("skipped", f"the job was {shown!r} before it could be cancelled; lower --poll-interval")
            self.coverage.skipped[CANCEL] = "the job ended before it could be cancelled"
            return
        progress = int(message.get("progress") or 0)
        body = {"messageId": target, "button": CANCEL}
        reproduce = self.caller.curl("POST", path, body)
        button_op = _button_operation()
        assert button_op is not None  # `path` is its path
        response = await self.ledger.send(button_op, body, "Cancel Job on a running job")
        self.coverage.pressed.add(CANCEL)
        if response.status_code == 409:
            now = json_or_none(await self.caller.send("GET", fetches[0]))
            if isinstance(now, dict) and now.get("status") == "DONE":
                outcome.escalate("skipped", "the job reached DONE while Cancel Job was in flight: inconclusive")
                self.coverage.skipped[CANCEL] = "the job ended while Cancel Job was in flight"
                return
        note = [
            f.with_context(curl=reproduce)
            for f in checks.cancel_answers_target(
                response.status_code, json_or_none(response), target, operation=f"POST {path}"
            )
        ]
        for _ in range(2):  # at once, and once more a few polls later: it stays cancelled
            for fetch in fetches:
                answer = json_or_none(await self.caller.send("GET", fetch))
                got = answer if isinstance(answer, dict) else {"status": None, "messageId": target}
                note += [
                    f.with_context(curl=reproduce)
                    for f in checks.cancel_ends_job(got, progress, operation=f"GET {fetch}")
                ]
            await self.caller.timer.sleep(self.settings.poll_interval * 3)
        if self.inbox is not None:
            note += await self._cancel_webhook(target, progress)
        note += await self._cancel_refused(target, "cancelled (FAIL)")
        found += note
        outcome.detail = f"cancelled at {progress}%, messageId {target}"

    async def _cancel_webhook(self, target: str, progress: int) -> list[ContractFailure]:
        assert self.inbox is not None
        waited = 0.0
        while not self.inbox.payloads_for(target) and waited < self.settings.webhook_wait:
            await self.caller.timer.sleep(0.1)
            waited += 0.1
        payloads = self.inbox.payloads_for(target)
        if not payloads:
            return [
                ContractFailure(
                    "webhook_delivered",
                    f"no webhook arrived within {self.settings.webhook_wait:g} s of Cancel Job ending the job",
                    "POST webhookOverride",
                    message_id=target,
                )
            ]
        last = payloads[-1]
        return checks.cancel_ends_job(
            last if isinstance(last, dict) else {}, progress, operation="POST webhookOverride"
        )
