"""The per-key queue, where the server says how many jobs a key runs at once.

The docs describe one queue per account, first come first served, held back by a concurrency limit whose value
they do not give. flux-mock says its own in ``GET /__mock/health`` (``queue.concurrency``, ``--concurrency``);
against any other server the check is skipped with that reason.

No job is made for it: the lifecycle run creates its jobs one at a time (`ledger`), so the first `concurrency` + 1
are known, in the order the server received them. While none of the first `concurrency` has ended, the next one
must be QUEUED and they must not be; it may leave QUEUED only once one of them has ended, and must within
`LifecycleSettings.grace` seconds of that. Each round fetches the waiting job first and the others after it, so
"it started while all of them still ran" is never a race: a job that has ended stays ended.
"""

from __future__ import annotations

from typing import Any

from contracts.check.auth_mode import HEALTH_PATH
from contracts.check.lifecycle.ledger import Created, Ledger
from contracts.check.lifecycle.plans import LifecycleSettings
from contracts.check.lifecycle.polling import FINAL, SUITE, poll_operations
from contracts.core.calls import Caller, json_or_none
from contracts.core.failures import ContractFailure
from contracts.core.reporting import Outcome
from contracts.core.schema import contract

NAME = "per-key queue: a job waits QUEUED while the key's slots are busy"
UNKNOWN = (
    f"the server does not say how many jobs a key runs at once (flux-mock says it in GET {HEALTH_PATH}: "
    "queue.concurrency), so its queue cannot be checked"
)


async def concurrency(caller: Caller) -> int | None:
    """How many jobs a key runs at once, as ``GET /__mock/health`` says (``queue.concurrency``); None otherwise."""
    try:
        answer = await caller.send("GET", HEALTH_PATH)
    except Exception:  # any transport error means the same as no answer: the server does not say
        return None
    body = json_or_none(answer)
    queue = body.get("queue") if isinstance(body, dict) and answer.status_code == 200 else None
    value = queue.get("concurrency") if isinstance(queue, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _status(message: Any) -> str | None:
    status = message.get("status") if isinstance(message, dict) else None
    return status if isinstance(status, str) else None


class QueueWatch:
    """Watches the first `slots` + 1 jobs of a run (see the module docstring)."""

    def __init__(self, caller: Caller, ledger: Ledger, settings: LifecycleSettings, slots: int | None) -> None:
        self.caller, self.ledger, self.settings, self.slots = caller, ledger, settings, slots
        self.outcome = Outcome(SUITE, NAME)

    def give_up(self, why: str) -> None:
        """The run ended before the watch could: say why (fewer jobs than the key's slots + 1, say)."""
        self.outcome.escalate("skipped", why)

    async def run(self) -> Outcome:
        """Wait for the jobs, watch them, and return the outcome."""
        if self.slots is None:
            self.outcome.escalate("skipped", UNKNOWN)
            return self.outcome
        jobs = await self.ledger.first(self.slots + 1)
        self.outcome.fail(await self._watch(jobs[:-1], jobs[-1], self.slots))
        return self.outcome

    async def _fetch(self, job: Created) -> str | None:
        # Every progress path of the job, as each lifecycle poll does; the first one's status is the one watched.
        paths = [t.replace("{messageId}", job.message_id) for _, t in poll_operations(job.operation_id)]
        answers = [json_or_none(await self.caller.send("GET", path)) for path in paths]
        return _status(answers[0]) if answers else None

    def _failure(self, text: str, waiting: Created, got: str | None) -> ContractFailure:
        path = poll_operations(None)[0][1]
        op = contract().operation(waiting.operation_id)
        reproduce = "\n".join(
            [
                f"# create {self.slots} jobs, then this one, and fetch it while they run:",
                self.caller.curl(op.method, op.path, waiting.body),
                self.caller.curl("GET", path.replace("{messageId}", waiting.message_id)),
            ]
        )
        return ContractFailure(
            "queue_holds_jobs",
            f"{text}; with {self.slots} job(s) at once per key (GET {HEALTH_PATH}: queue.concurrency), a job "
            f"created while {self.slots} others run must stay QUEUED until one of them ends, then start",
            f"GET {path}",
            "/status",
            "QUEUED",
            got,
            message_id=waiting.message_id,
            curl=reproduce,
        )

    async def _watch(self, running: list[Created], waiting: Created, slots: int) -> list[ContractFailure]:
        timer, first = self.caller.timer, True
        deadline = timer.now() + self.settings.job_timeout + self.settings.grace
        freed_at: float | None = None
        while timer.now() < deadline:
            mine = await self._fetch(waiting)  # first: the others are fetched after it (see the module docstring)
            others = [await self._fetch(job) for job in running]
            if mine is None or None in others:  # not a Message: the jobs' own polling reports what is wrong
                self.outcome.escalate("skipped", "inconclusive: a fetch of the watched jobs gave no status")
                return []
            ended = [job for job, status in zip(running, others, strict=True) if status in FINAL]
            if first and (ended or "QUEUED" in others):
                why = "one of them had ended" if ended else "one of them was QUEUED too (another client's jobs?)"
                self.outcome.escalate("skipped", f"inconclusive: when job {slots + 1} was created, {why}")
                return []
            first = False
            if mine != "QUEUED":
                if not ended:
                    names = ", ".join(job.label for job in running)
                    text = f"job {waiting.label!r} was {mine} while the {slots} created before it ({names}) ran"
                    return [self._failure(text, waiting, mine)]
                self.outcome.detail = f"job {slots + 1} ({waiting.label}) started once {ended[0].label} ended"
                return []
            if ended and freed_at is None:
                freed_at = timer.now()
            if freed_at is not None and timer.now() - freed_at > self.settings.grace:
                text = (
                    f"job {waiting.label!r} stayed QUEUED {timer.now() - freed_at:.0f} s after {ended[0].label} ended"
                )
                return [self._failure(text, waiting, mine)]
            await timer.sleep(self.settings.poll_interval / 2)
        return [self._failure(f"job {waiting.label!r} never left QUEUED", waiting, "QUEUED")]
