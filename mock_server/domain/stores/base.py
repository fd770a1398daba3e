"""The `Store` interface: every piece of server state that must be one across workers and replicas.

Each worker keeps a local replica of the state (its `JobStore`, clock, armed rules, journals), which the
in-process Python API (`MockControl`) reads and changes. The store is how that replica is shared:

- jobs are created (`submit`, ids and per-account slots decided atomically) and read (`find`, `page`, `newest`)
  through it;
  plans never change, so a worker may keep a job it has read; a forced state is pushed (`job_changed`);
- admin changes made on the local replica (clock, armed rules, credits, reset) are published with
  `clock_changed`, `rules_changed`, `credits_changed` and `reset`, which return once every worker applied them;
- counted state is decided by the store: `take` (an armed rule's count), `hit` (rate-limit windows),
  `charge` (credits);
- the journals are read fleet-wide with `requests`, `webhook_attempts` and `tail`.

`MemoryStore` is the local replica alone; `RedisStore` shares it through Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from mock_server.domain.jobs import Job, JobPage, Timing
from mock_server.domain.scenarios.armed import Rule


class Store(Protocol):
    """What the HTTP layer needs from wherever state lives."""

    name: str  # memory, or redis
    shared: bool  # whether other processes see the same state
    on_reset: Callable[[], None]  # set by the app: reset this worker's replica when another worker reset the fleet

    async def start(self) -> None:
        """Connect and load the shared state into the local replica (the app's lifespan calls this)."""

    async def aclose(self) -> None:
        """Stop background work and disconnect."""

    async def submit(self, account: str, timing: Timing, fields: Mapping[str, Any], progress_step: int = 1) -> Job:
        """Create a job now: a fleet-unique id, and a slot of the account's FIFO queue taken atomically.

        `fields` are the `Job` fields the request decided (``kind`` and ``timeout`` always), one mapping handed
        down as is: re-packing them as keywords at every layer cost several µs per create.
        """

    async def find(self, message_id: str) -> Job | None:
        """The job with this id, or None (unknown, or expired after ``--job-ttl``)."""

    async def job_changed(self, job: Job) -> None:
        """Publish a job's forced state (or its release), changed on the local replica."""

    async def page(self, after: int = 0, limit: int = 100) -> JobPage:
        """Live jobs with arrival number above `after`, oldest first."""

    async def newest(self, limit: int) -> tuple[list[Job], int]:
        """The newest `limit` live jobs, newest first, and how many live jobs there are (the dashboard's)."""

    async def clock_changed(self) -> None:
        """Publish the local clock's offset and freeze; returns once every worker has them."""

    async def rules_changed(self) -> None:
        """Publish the local replica's armed rules (after arm or clear)."""

    async def rule_id(self) -> int | None:
        """A fleet-wide unique id for a new admin rule; None: the replica numbers it (one process)."""

    async def take(self, rule: Rule) -> bool:
        """Use one of a counted rule's matches; False when the fleet has used them all."""

    async def hit(self, key: str, bucket: str) -> int | None:
        """One request of `key` in a rate-limit bucket: None if admitted, else seconds to wait (Retry-After)."""

    async def charge(self, account: str, amount: int) -> int | None:
        """Take credits (HttpError 401 when short); the balance left, None when unlimited."""

    @property
    def charging(self) -> bool:
        """Whether some key may have a finite balance; while not, `charge` changes nothing and creates skip it."""

    async def credits_changed(self, account: str) -> None:
        """Publish a balance set on the local replica (admin, or the ``credits:<n>`` scenario)."""

    async def credit_scenario(self, account: str, balance: int) -> bool:
        """The ``credits:<n>`` scenario: set the balance unless the scenario last set this one (the fleet's memory)."""

    async def balance(self, account: str) -> int | None:
        """One key's balance (None: unlimited)."""

    async def balances(self) -> dict[str, int | None]:
        """Every account with an explicit balance."""

    async def requests(self, *, message_id: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """The request journal (JSON-ready entries), every worker's, in arrival order."""

    async def webhook_attempts(
        self, *, message_id: str | None = None, delivery_id: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        """The webhook journal (JSON-ready entries), every worker's, in order."""

    async def tail(self, journal: str, count: int) -> list[dict[str, Any]]:
        """The newest `count` entries of the ``requests`` or ``webhooks`` journal, every worker's, oldest first."""

    def describe_error(self, exc: BaseException) -> str | None:
        """The message for a client when `exc` means the store did not answer (answered 503), else None."""

    async def counts(self) -> dict[str, int]:
        """How many jobs and journal entries there are (for health)."""

    async def reset(self) -> None:
        """Publish a reset done on the local replica: the shared state is emptied too."""
