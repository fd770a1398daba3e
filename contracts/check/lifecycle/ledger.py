"""The ledger of a lifecycle run: every job-creating request it sends, one at a time, in order, and what each
was charged.

Creates go through `Ledger.send` one after another (each is a single quick request), so the order the server
received them is known (the queue check watches the first ones) and, where the server exposes a balance
(account-info's ``credits``), the balance read just before and just after a create shows that create's charge
alone. Each charge must equal the price openapi.yaml gives the operation in ``x-credits`` for that body (a
button's price depends on the button; Cancel Job is free). Without a balance (no account-info in the contract,
an answer without ``credits``, or the unlimited balance), the charges are skipped with the reason.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from contracts import checks
from contracts.check.lifecycle.polling import SUITE
from contracts.checks.refusals import UNLIMITED
from contracts.core.calls import Caller, json_or_none
from contracts.core.failures import ContractFailure
from contracts.core.reporting import Outcome
from contracts.core.schema import contract

ACCOUNT_INFO = "accountInfo"


@dataclass(frozen=True, slots=True)
class Created:
    """One job the run created: its messageId, when the answer came, and the balance around it."""

    message_id: str
    at: float
    label: str
    operation_id: str
    body: dict[str, Any]
    before: int | None = None
    after: int | None = None


class Ledger:
    """Sends the run's creates one at a time, in order, reading the balance around each when there is one."""

    def __init__(self, caller: Caller) -> None:
        self.caller = caller
        self.created: list[Created] = []
        self.skipped: str | None = "the balance was not read"  # why charges are not checked (None: they are)
        self._lock = asyncio.Lock()
        self._first: dict[int, asyncio.Event] = {}
        self._jobs: dict[str, Created] = {}  # each new messageId's first create, in order

    async def open(self) -> None:
        """Read the balance once: charges are checked only when it is a finite number."""
        balance, why = await self._balance()
        if balance is None:
            self.skipped = why
        elif balance >= UNLIMITED:
            self.skipped = f"the balance is unlimited ({UNLIMITED}): start the server with --credits N"
        else:
            self.skipped = None

    async def _balance(self) -> tuple[int | None, str]:
        ops = [op for op in contract().by_role("read") if op.operation_id == ACCOUNT_INFO]
        if not ops:
            return None, f"the contract has no {ACCOUNT_INFO} operation, so no balance to read"
        answer = await self.caller.send("GET", ops[0].path)
        body = json_or_none(answer)
        value = body.get("credits") if isinstance(body, dict) else None
        if answer.status_code != 200 or isinstance(value, bool) or not isinstance(value, int):
            return None, f"GET {ops[0].path} answered {answer.status_code} without a whole-number credits field"
        return value, ""

    async def send(self, operation_id: str, body: dict[str, Any], label: str) -> httpx.Response:
        """POST one create (after the previous one's answer), noting the job and its charge when it was made."""
        path = contract().operation(operation_id).path
        async with self._lock:
            before = (await self._balance())[0] if self.skipped is None else None
            response = await self.caller.send("POST", path, json_body=body)
            answer = json_or_none(response)
            message_id = answer.get("messageId") if isinstance(answer, dict) else None
            if not response.is_success or not isinstance(message_id, str):
                return response
            after = (await self._balance())[0] if before is not None else None
            self.created.append(Created(message_id, self.caller.timer.now(), label, operation_id, body, before, after))
            if message_id not in self._jobs:  # a Cancel Job press names the job it cancels: not a new job
                self._jobs[message_id] = self.created[-1]
        for count, event in self._first.items():
            if len(self._jobs) >= count:
                event.set()
        return response

    async def first(self, count: int) -> list[Created]:
        """The first `count` jobs created, once there are that many (cancel the wait when there may never be)."""
        event = self._first.setdefault(count, asyncio.Event())
        if len(self._jobs) >= count:
            event.set()
        await event.wait()
        return list(self._jobs.values())[:count]

    def charges(self) -> Outcome:
        """The outcome "credits match charges": each job created lowered the balance by its x-credits price."""
        outcome = Outcome(SUITE, "credits match charges")
        if self.skipped is not None:
            outcome.escalate("skipped", self.skipped)
            return outcome
        found: list[ContractFailure] = []
        judged = 0
        for job in self.created:
            price = contract().price(job.operation_id)
            if price is None or job.before is None:
                continue
            judged += 1
            op = contract().operation(job.operation_id)
            cost = price.of(job.body)
            notes = (f"this price is the mock's choice (x-inferred): {price.inferred}",) if price.inferred else ()
            for failure in checks.credits_match_charges(
                job.before,
                job.after,
                cost,
                job=job.message_id,
                action=f"{job.label} ({op.operation_id}, x-credits {cost})",
            ):
                found.append(failure.with_context(curl=self.caller.curl(op.method, op.path, job.body), notes=notes))
        outcome.fail(found)
        outcome.detail = f"{len(self._jobs)} job(s) made; {judged} create(s) judged against their x-credits price"
        return outcome
