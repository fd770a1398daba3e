"""`RedisStore`: state shared by every worker and replica that names the same Redis database (``--store redis://``).

Each worker keeps a local replica (jobs it has read, the clock, armed rules) and Redis holds the truth:

- jobs are created by one script call per event-loop turn, and each job's webhook plan is written exactly once,
  even if its creator dies in between (`creates`: a transactional outbox); a worker reads a job once and keeps
  it (plans never change), and a forced state is published so every worker drops its copy;
- armed rules are a hash, one field per rule, so concurrent arms never overwrite each other (`rules`);
- clock, rules, credits set by the admin API and resets are published to the fleet (`Fleet`) and an admin call
  returns once every worker applied them;
- counted state is decided in Redis: rule counts (DECR), rate-limit windows and credits (scripts);
- journals are mirrored to Redis in the background (`journals`), and a fleet read first asks every worker to
  flush.

One round trip per batch of creates (two with webhooks); none for polling a job this worker has seen.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from mock_server.config.settings import Settings
from mock_server.contract.errors import MockServerError
from mock_server.contract.problems import HttpError
from mock_server.domain.clock import Clock
from mock_server.domain.credits import INSUFFICIENT, Credits
from mock_server.domain.jobs import Job, JobPage, JobStore, Timing
from mock_server.domain.ratelimit import RateLimiter, retry_after
from mock_server.domain.records.journal import Journal
from mock_server.domain.scenarios.armed import Rule
from mock_server.domain.scenarios.engine import ScenarioEngine
from mock_server.domain.stores import scripts
from mock_server.domain.stores.records import forced_fields, load_job
from mock_server.domain.webhooks.journal import WebhookJournal
from mock_server.services.outages import Outage
from mock_server.services.stores.creates import FleetCreates
from mock_server.services.stores.fleet import Fleet
from mock_server.services.stores.journals import NAMES as JOURNALS
from mock_server.services.stores.journals import FleetJournals
from mock_server.services.stores.outbox import RedisOutbox
from mock_server.services.stores.pipe import ScriptPipe
from mock_server.services.stores.rules import FleetRules

log = logging.getLogger("flux_mock.store")

PREFIX = "fm:"


class StoreUnavailable(MockServerError):
    """Raised when the Redis store cannot be reached at start-up (the message says how to fix it)."""


def check_reachable(url: str, timeout: float = 3.0) -> None:
    """Raise StoreUnavailable (saying how to fix it) unless Redis answers PING at `url`."""
    import redis as sync_redis

    client = sync_redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        raise StoreUnavailable(_unreachable(url, exc)) from None
    finally:
        client.close()


def _unreachable(url: str, exc: BaseException) -> str:
    return (
        f"Cannot reach the Redis store at {url}: {exc}. Start Redis (apt-get install -y redis-server; "
        "redis-server --port 6379 --save '') or fix --store (FLUX_MOCK_STORE)."
    )


class RedisStore:
    """State in Redis, shared by the fleet; this worker's replica is kept in step by published changes."""

    name = "redis"
    shared = True

    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        clock: Clock,
        engine: ScenarioEngine,
        credits: Credits,
        limiter: RateLimiter,
        journal: Journal,
        webhook_journal: WebhookJournal,
        *,
        prefix: str = PREFIX,
    ) -> None:
        self.settings = settings
        self.url = settings.store
        self.jobs = jobs
        self.clock = clock
        self.engine = engine
        self.credits = credits
        self.limiter = limiter
        self.journal = journal
        self.webhook_journal = webhook_journal
        self.prefix = prefix
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.client: aioredis.Redis = aioredis.from_url(self.url, decode_responses=True)
        # A lost Redis is said once by whoever meets it first (pump, journal writer, fleet listener, a request).
        self.outage = Outage(
            log, f"Redis at {self.url} is unreachable; answering 503, retrying", f"Redis at {self.url} answers again"
        )
        self._last_failure: BaseException | None = None
        self.fleet = Fleet(self.client, prefix, self.worker, self._apply, self.outage)
        self.outbox = RedisOutbox(self.client, prefix, self.worker, settings.webhook_lease_s, self.outage)
        self.on_reset: Callable[[], None] = lambda: None  # the app's: reset the local replica (not published)
        self.pipe = ScriptPipe(self.client)  # the hot script calls: creates, their webhook plans, journals
        self.creates = FleetCreates(
            self.client, self.key, settings, jobs, clock, self.outbox, self.fleet, self.pipe, self.find, self.outage
        )
        self.rules = FleetRules(self.client, self.key, engine)
        self.journals = FleetJournals(
            self.client, self.key, self.fleet, self.outage, journal, webhook_journal, settings.journal_size, self.pipe
        )
        self._hit = self.client.register_script(scripts.HIT)
        self._charge = self.client.register_script(scripts.CHARGE)
        self._credit_scenario = self.client.register_script(scripts.CREDIT_SCENARIO)
        self._credits_used = settings.credits is not None

    def key(self, *parts: str) -> str:
        """A key of this store's namespace."""
        return self.prefix + ":".join(parts)

    # --- start and stop ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect, load the fleet's clock, rules and credits into the local replica, and follow its changes."""
        try:
            await self.client.ping()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(_unreachable(self.url, exc)) from None
        clock = await self.client.hgetall(self.key("clock"))
        if clock:
            self.clock.restore(float(clock["offset"]), float(clock["frozen_at"]) if clock["frozen_at"] else None)
        await self.rules.load()
        await self._load_scripts()
        await self.rules.count_file_rules(overwrite=False)
        self._credits_used = self._credits_used or bool(await self.client.exists(self.key("credits")))
        await self.fleet.start()
        self.journals.start()
        self.creates.start()

    async def _load_scripts(self) -> None:
        await self.outbox.load()

    async def aclose(self) -> None:
        """Write what the journals still hold, stop following the fleet, disconnect."""
        await self.creates.aclose()
        await self.journals.aclose()
        await self.fleet.aclose()
        await self.pipe.aclose()
        with contextlib.suppress(Exception):
            await self.client.aclose()

    # --- jobs ------------------------------------------------------------------------------------------------

    async def submit(self, account: str, timing: Timing, fields: Mapping[str, Any], progress_step: int = 1) -> Job:
        """Create the job in Redis with this turn's other creates, then its webhook plan (`creates.FleetCreates`)."""
        return await self.creates.submit(account, timing, fields, progress_step)

    async def _write(self, write: Callable[[Any], None]) -> None:
        """One transaction: `write`'s commands and the outbox writes planning queued."""
        async with self.client.pipeline(transaction=True) as pipe:
            write(pipe)
            ops, planned = list(self.outbox.pending), list(self.outbox.planned)
            self.outbox.flush_into(pipe)
            try:
                await pipe.execute()
            except NoScriptError:  # Redis restarted and lost the scripts: load them and write again
                await self._load_scripts()
                self.outbox.pending[:0] = ops
                self.outbox.planned[:0] = planned
                await self._write(write)

    async def find(self, message_id: str) -> Job | None:
        """This worker's copy, else the shared record (kept here from then on)."""
        job = self.jobs.find(message_id)
        if job is not None:
            return job
        record: dict[str, str] = await self.client.hgetall(self.key("job", message_id))  # type: ignore[assignment]
        job = load_job(message_id, record)
        if job is None or job.plan.created_at + self.settings.job_ttl <= self.clock.now():
            return None  # expired in mock time (Redis forgets it in real time)
        self.jobs.adopt(job)
        return job

    async def job_changed(self, job: Job) -> None:
        """Write the job's forced state (and re-planned webhooks); every worker drops its copy."""
        key = self.key("job", job.message_id)
        await self._write(lambda pipe: pipe.hset(key, mapping=forced_fields(job)))
        await self.fleet.publish("job", messageId=job.message_id)

    async def page(self, after: int = 0, limit: int = 100) -> JobPage:
        """Live jobs after arrival number `after`, oldest first, from the shared index."""
        index = self.key("jobs")
        found_ids: list[Any] = await self.client.zrangebyscore(
            index, f"({after}", "+inf", start=0, num=limit + 1, withscores=True
        )
        total = int(await self.client.zcard(index))
        more = len(found_ids) > limit
        ids: list[tuple[str, float]] = [(str(m), float(score)) for m, score in found_ids[:limit]]
        async with self.client.pipeline(transaction=False) as pipe:
            for mid, _ in ids:
                pipe.hgetall(self.key("job", mid))
            records = await pipe.execute() if ids else []
        now = self.clock.now()
        loaded = [load_job(mid, r) for (mid, _), r in zip(ids, records, strict=True)]
        found = [j for j in loaded if j is not None and j.plan.created_at + self.settings.job_ttl > now]
        return JobPage(found, int(ids[-1][1]) if more and ids else None, total)

    async def newest(self, limit: int) -> tuple[list[Job], int]:
        """The fleet's newest live jobs, newest first (records read once, kept here), and how many there are."""
        index = self.key("jobs")
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zrevrange(index, 0, limit - 1)
            pipe.zcard(index)
            found, total = await pipe.execute()
        ids = [str(m) for m in found]
        unknown = [m for m in ids if self.jobs.find(m) is None]
        if unknown:
            async with self.client.pipeline(transaction=False) as pipe:
                for message_id in unknown:
                    pipe.hgetall(self.key("job", message_id))
                records = await pipe.execute()
            for message_id, record in zip(unknown, records, strict=True):
                job = load_job(message_id, record)
                if job is not None:
                    self.jobs.adopt(job)
        jobs = [self.jobs.find(m) for m in ids]
        return [j for j in jobs if j is not None], int(total)

    # --- admin changes, published --------------------------------------------------------------------------

    async def clock_changed(self) -> None:
        """Write this worker's clock offset and freeze, and have every worker take them."""
        offset, frozen_at = self.clock.state()
        await self.client.hset(self.key("clock"), mapping={"offset": repr(offset), "frozen_at": _opt(frozen_at)})
        await self.fleet.publish("clock", offset=offset, frozenAt=frozen_at)

    async def rules_changed(self) -> None:
        """Write the rules armed or cleared here (one hash field each: `rules.FleetRules`); every worker takes them."""
        await self.rules.changed()
        await self.fleet.publish("rules")

    async def rule_id(self) -> int:
        """The next admin rule id of the whole fleet: two workers arming at once never share one."""
        return await self.rules.next_id()

    async def credit_scenario(self, account: str, balance: int) -> bool:
        """The ``credits:<n>`` scenario with the fleet's memory of what it last set (one worker's was per worker)."""
        keys = [self.key("credits"), self.key("credits", "scenario")]
        if not int(await self._credit_scenario(keys=keys, args=[account, str(balance)])):
            return False
        self.credits.set(account, balance)
        self._credits_used = True
        await self.fleet.publish("credits")
        return True

    async def credits_changed(self, account: str) -> None:
        """Write the balance set here (None: unlimited) and have every worker know balances are in use."""
        balance = self.credits.balance(account)
        await self.client.hset(self.key("credits"), account, "null" if balance is None else str(balance))
        self._credits_used = True
        await self.fleet.publish("credits")

    async def reset(self) -> None:
        """Empty the shared state, then have every worker reset its replica."""
        keys = [k async for k in self.client.scan_iter(match=self.prefix + "*", count=1000)]
        for start in range(0, len(keys), 1000):
            await self.client.unlink(*keys[start : start + 1000])
        await self.rules.count_file_rules(overwrite=True)
        self.rules.forget()
        self._credits_used = self.settings.credits is not None
        await self.fleet.publish("reset")

    async def _apply(self, change: dict[str, Any]) -> None:
        kind = change.get("kind")
        if kind == "clock":
            self.clock.restore(float(change["offset"]), change.get("frozenAt"))
        elif kind == "job":
            self.jobs.discard(str(change["messageId"]))
        elif kind == "evict":  # forgotten fleet-wide (TTL or --max-jobs): this worker's copies go too
            for message_id in change.get("ids", []):
                self.jobs.discard(str(message_id))
        elif kind == "rules":
            await self.rules.load()
        elif kind == "credits":
            self._credits_used = True
        elif kind == "reset":
            self.on_reset()
            self.rules.forget()
            self._credits_used = self.settings.credits is not None
        elif kind == "flush":
            await self.journals.flush()

    # --- counted state, decided in Redis -------------------------------------------------------------------

    async def take(self, rule: Rule) -> bool:
        """Use one of the rule's matches fleet-wide."""
        return await self.rules.take(rule)

    async def hit(self, key: str, bucket: str) -> int | None:
        """The key's window in Redis (the rule of `ratelimit.RateLimiter`)."""
        window = self.limiter.windows[bucket]
        now = self.clock.now()
        ttl = int(window.seconds * 1000) + 1000
        args: list[str | int] = [repr(now), repr(window.seconds), window.limit, f"{now!r}:{uuid.uuid4().hex[:8]}", ttl]
        oldest = await self._hit(keys=[self.key("rate", bucket, key)], args=args)
        return None if oldest is None else retry_after(float(oldest), window, now)

    async def charge(self, account: str, amount: int) -> int | None:
        """The key's balance in Redis; skipped while no balance is set anywhere."""
        if not self._credits_used:
            return None
        initial = "" if self.settings.credits is None else str(self.settings.credits)
        left = await self._charge(keys=[self.key("credits")], args=[account, amount, initial])
        if left == "short":
            raise HttpError(401, INSUFFICIENT)
        return None if left == "unlimited" else int(left)

    @property
    def charging(self) -> bool:
        """Whether a balance was ever set in the fleet (or ``--credits`` gives every key one)."""
        return self._credits_used

    async def balance(self, account: str) -> int | None:
        """One key's balance (None: unlimited)."""
        value = await self.client.hget(self.key("credits"), account)
        if value is None:
            return self.settings.credits
        return None if value == "null" else int(value)

    async def balances(self) -> dict[str, int | None]:
        """Every key with an explicit balance."""
        found = await self.client.hgetall(self.key("credits"))
        return {str(k): None if v == "null" else int(v) for k, v in found.items()}

    # --- journals ------------------------------------------------------------------------------------------

    async def requests(self, *, message_id: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Every worker's requests, in arrival order."""
        found = await self.journals.read("requests")
        return [e for e in found if e["seq"] > since and (message_id is None or e.get("messageId") == message_id)]

    async def webhook_attempts(
        self, *, message_id: str | None = None, delivery_id: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        """Every worker's webhook attempts, in order."""
        found = await self.journals.read("webhooks")
        return [
            e
            for e in found
            if e["seq"] > since
            and (message_id is None or e.get("messageId") == message_id)
            and (delivery_id is None or e.get("deliveryId") == delivery_id)
        ]

    async def tail(self, journal: str, count: int) -> list[dict[str, Any]]:
        """The newest `count` entries of a fleet journal (every worker wrote its own first), oldest first."""
        return await self.journals.read(journal, count) if count > 0 else []

    def describe_error(self, exc: BaseException) -> str | None:
        """What to tell a client when `exc` means Redis did not answer (the app answers 503), else None."""
        if isinstance(exc, RedisError | OSError):
            if exc is not self._last_failure:  # asked again for the same failure when its log line is filtered
                self._last_failure = exc
                self.outage.failed(exc)
            return f"flux-mock's shared store ({self.url}) did not answer ({exc}); check that Redis is running."
        return None

    async def counts(self) -> dict[str, int]:
        """Jobs and journal entries of the whole fleet."""
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.zcard(self.key("jobs"))
            for name in JOURNALS:
                pipe.llen(self.journals.keys(name)[0])
            jobs, *held = await pipe.execute()
        kept = self.journals.size  # a journal's list holds a few more than it shows (`journals.SLACK`)
        return {"jobs": int(jobs), **{name: min(int(n), kept) for name, n in zip(JOURNALS, held, strict=True)}}


def _opt(value: float | None) -> str:
    return "" if value is None else repr(value)
