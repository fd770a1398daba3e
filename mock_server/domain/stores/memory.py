"""`MemoryStore`: the local replica is the whole state (one process; the default, and as fast as before)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from mock_server.domain.credits import Credits
from mock_server.domain.jobs import Job, JobPage, JobStore, Timing
from mock_server.domain.ratelimit import RateLimiter
from mock_server.domain.records.journal import Journal
from mock_server.domain.scenarios.armed import Rule
from mock_server.domain.webhooks.journal import WebhookJournal


class MemoryStore:
    """State in this process: every method completes at once, with no I/O."""

    name = "memory"
    shared = False

    def __init__(
        self, jobs: JobStore, credits: Credits, limiter: RateLimiter, journal: Journal, webhooks: WebhookJournal
    ) -> None:
        self.jobs = jobs
        self.credits = credits
        self.limiter = limiter
        self.journal = journal
        self.webhook_journal = webhooks
        self.on_reset: Callable[[], None] = lambda: None  # never called: no other worker shares this state

    async def start(self) -> None:
        """Nothing to connect."""

    async def aclose(self) -> None:
        """Nothing to disconnect."""

    async def submit(self, account: str, timing: Timing, fields: Mapping[str, Any], progress_step: int = 1) -> Job:
        """Create a job (see `JobStore.submit`)."""
        return self.jobs.create(account, timing, fields, progress_step)

    async def find(self, message_id: str) -> Job | None:
        """The job, or None."""
        return self.jobs.find(message_id)

    async def job_changed(self, job: Job) -> None:
        """The local replica is the state: nothing to publish."""

    async def page(self, after: int = 0, limit: int = 100) -> JobPage:
        """A page of jobs, oldest first."""
        return self.jobs.page(after, limit)

    async def newest(self, limit: int) -> tuple[list[Job], int]:
        """The newest jobs held here, newest first."""
        return list(reversed(deque(self.jobs, maxlen=limit))), len(self.jobs)

    async def clock_changed(self) -> None:
        """Nothing to publish."""

    async def rules_changed(self) -> None:
        """Nothing to publish."""

    async def rule_id(self) -> int | None:
        """The only replica numbers its rules."""
        return None

    async def take(self, rule: Rule) -> bool:
        """The engine already counted the match on the only replica."""
        return True

    async def hit(self, key: str, bucket: str) -> int | None:
        """The local sliding window."""
        return self.limiter.hit(key, bucket)

    async def charge(self, account: str, amount: int) -> int | None:
        """The local balance."""
        return self.credits.charge(account, amount)

    @property
    def charging(self) -> bool:
        """Whether a balance was ever set or ``--credits`` gives every key one."""
        return self.credits.limited

    async def credits_changed(self, account: str) -> None:
        """Nothing to publish."""

    async def credit_scenario(self, account: str, balance: int) -> bool:
        """The only replica remembers what the scenario set."""
        return self.credits.apply_scenario(account, balance)

    async def balance(self, account: str) -> int | None:
        """One key's balance (None: unlimited)."""
        return self.credits.balance(account)

    async def balances(self) -> dict[str, int | None]:
        """The local balances."""
        return self.credits.snapshot()

    async def requests(self, *, message_id: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """The local request journal."""
        return [e.as_dict() for e in self.journal.entries(message_id=message_id, since=since)]

    async def webhook_attempts(
        self, *, message_id: str | None = None, delivery_id: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        """The local webhook journal."""
        entries = self.webhook_journal.entries(message_id=message_id, delivery_id=delivery_id, since=since)
        return [e.as_dict() for e in entries]

    async def tail(self, journal: str, count: int) -> list[dict[str, Any]]:
        """The newest entries of the local journal."""
        log = self.journal if journal == "requests" else self.webhook_journal
        return [e.as_dict() for e in log.tail(count)]

    def describe_error(self, exc: BaseException) -> str | None:
        """No store I/O can fail here."""
        return None

    async def counts(self) -> dict[str, int]:
        """Jobs and journal entries held here."""
        return {"jobs": len(self.jobs), "requests": len(self.journal), "webhooks": len(self.webhook_journal)}

    async def reset(self) -> None:
        """The local reset was the whole reset."""
