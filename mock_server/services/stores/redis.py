"""`RedisStore`: state shared by every worker and replica that names the same Redis database (``--store redis://``).

Each worker keeps a local replica (jobs it has read, the clock, armed rules) and Redis holds the truth:

- a job is numbered, given its account's slot, written and (with a webhook target) marked "unplanned" by one
  script (`scripts.SUBMIT`, one call for every create of an event-loop turn); its planned deliveries are then
  written by whoever removes the mark (`scripts.PLAN`: the creator, or, if it died in between, any worker's
  sweep), so a crash between the two steps delays a webhook but never loses or doubles it (a transactional
  outbox); a worker reads a job once and keeps it (plans never change), and a forced state is published so
  every worker drops its copy;
- armed rules are a hash (one field per rule, written per rule: concurrent arms never overwrite each other);
- clock, rules, credits set by the admin API and resets are published to the fleet (`Fleet`) and an admin call
  returns once every worker applied them;
- counted state is decided in Redis: rule counts (DECR), rate-limit windows and credits (scripts);
- journals are mirrored to Redis in the background (ordered by instant, numbered fleet-wide, bounded), and a
  fleet read first asks every worker to flush.

One round trip per batch of creates (two with webhooks); none for polling a job this worker has seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import socket
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from mock_server.config.settings import Settings
from mock_server.contract.errors import MockServerError
from mock_server.contract.problems import HttpError
from mock_server.domain.clock import Clock
from mock_server.domain.credits import INSUFFICIENT, Credits
from mock_server.domain.jobs import Job, JobKind, JobPage, JobStore, Timing, plan_job
from mock_server.domain.lifecycle import run_length
from mock_server.domain.ratelimit import RateLimiter, retry_after
from mock_server.domain.records.journal import Journal
from mock_server.domain.scenarios.armed import Rule, make_rule
from mock_server.domain.scenarios.engine import ScenarioEngine
from mock_server.domain.stores import scripts
from mock_server.domain.stores.records import draft, forced_fields, load_job
from mock_server.domain.webhooks.journal import WebhookJournal
from mock_server.services.outages import Outage
from mock_server.services.stores.batches import Batches
from mock_server.services.stores.fleet import Fleet
from mock_server.services.stores.outbox import Planned, RedisOutbox
from mock_server.services.tasks import stop_task

log = logging.getLogger("flux_mock.store")

PREFIX = "fm:"
FLUSH_BATCH = 500  # journal entries per write
# Test-only: SIGKILL this worker right after a create script wrote a job with a webhook target, before its
# deliveries are written (the crash window `tests/fleet` proves safe). Not a FLUX_MOCK_* setting on purpose.
CRASH_AFTER_CREATE = os.environ.get("FLUXMOCK_TEST_CRASH_AFTER_CREATE") == "1"


class _Create(NamedTuple):
    """One create waiting for the batch's script call."""

    account: str
    now: float
    queued_extra: float
    run: float
    deadline: float
    draft: bytes
    hooked: bool  # it has a webhook target: marked unplanned until its deliveries are written


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
        self._submit = self.client.register_script(scripts.SUBMIT)
        self._plan = self.client.register_script(scripts.PLAN)
        self._unplanned = self.client.register_script(scripts.UNPLANNED)
        self._creates: Batches[_Create, tuple[int, float, str]] = Batches(self._create_batch)
        self._plans: Batches[tuple[str, list[Planned]], None] = Batches(self._plan_batch)
        self._lease_ms = max(1, int(settings.webhook_lease_s * 1000))
        self._sweep_s = max(0.1, settings.webhook_lease_s / 2)
        self._sweeper: asyncio.Task[None] | None = None
        self._rule_ids: set[int] = set()  # the admin rules of the last fleet snapshot taken (or written) here
        self._rules_version = 0
        self._append = self.client.register_script(scripts.APPEND)
        self._hit = self.client.register_script(scripts.HIT)
        self._charge = self.client.register_script(scripts.CHARGE)
        self._credit_scenario = self.client.register_script(scripts.CREDIT_SCENARIO)
        self._queued: dict[str, list[tuple[float, bytes]]] = {"requests": [], "webhooks": []}
        self._wanted: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._credits_used = settings.credits is not None
        self._ttl_ms = max(1, int(min(settings.job_ttl, 10 * 365 * 86_400) * 1000))

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
        await self._load_rules()
        await self._load_scripts()
        await self._count_file_rules(overwrite=False)
        self._credits_used = self._credits_used or bool(await self.client.exists(self.key("credits")))
        await self.fleet.start()
        self._wanted = asyncio.Event()
        self.journal.sink = lambda item: self._mirror("requests", self.journal.materialise(item))
        self.webhook_journal.sink = lambda item: self._mirror("webhooks", self.webhook_journal.materialise(item))
        self._writer = asyncio.get_running_loop().create_task(self._write_journals(), name="flux-mock-journal")
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_unplanned(), name="flux-mock-unplanned")

    async def _load_scripts(self) -> None:
        await self.outbox.load()

    async def aclose(self) -> None:
        """Write what the journals still hold, stop following the fleet, disconnect."""
        self.journal.sink = self.webhook_journal.sink = None
        writer, self._writer = self._writer, None
        await stop_task(writer)
        sweeper, self._sweeper = self._sweeper, None
        await stop_task(sweeper)
        with contextlib.suppress(RedisError, OSError):
            await self._flush_journals()
        await self.fleet.aclose()
        with contextlib.suppress(Exception):
            await self.client.aclose()

    # --- jobs ------------------------------------------------------------------------------------------------

    async def submit(
        self, *, kind: JobKind, account: str, timeout: int, timing: Timing, progress_step: int = 1, **fields: object
    ) -> Job:
        """Create the job (with this turn's other creates, one script call), then write its planned webhooks.

        The create script marks a job with a webhook target "unplanned" in the same step that writes it; the
        deliveries planned here are written only by whoever removes that mark (`scripts.PLAN`). A worker that
        dies between the two steps leaves the mark, and any worker's sweep plans the job after
        ``--webhook-lease-s`` (plans are a pure function of the record): the webhook is sent once, late.
        """
        now = self.clock.now()
        run = run_length(timing.duration, timing.fail_at, timing.stall_at)
        deadline = now + timeout if timing.honour_timeout else math.inf
        record = draft(
            created_at=now,
            timing=timing,
            progress_step=progress_step,
            fields={"kind": kind, "account": account, "timeout": timeout, **fields},
        )
        hooked = bool(fields.get("webhook_url") or self.settings.webhook_url)
        create = _Create(account, now, timing.queued_extra, run, deadline, record, hooked)
        n, slot_free, message_id = await self._creates(create)
        job_plan = plan_job(now, slot_free, timeout, timing, progress_step)
        job = Job(message_id, kind, account, job_plan, n, timeout=timeout, timing=timing, **fields)  # type: ignore[arg-type]
        self.jobs.adopt(job)
        if hooked and CRASH_AFTER_CREATE:
            os.kill(os.getpid(), signal.SIGKILL)  # the crash window, for the fleet test: created, not planned
        self.jobs.announce(job)  # the webhook service plans its deliveries (`RedisOutbox.put`)
        if hooked:
            await self._plans((job.message_id, self.outbox.take(job.message_id)))
        return job

    async def _create_batch(self, creates: list[_Create]) -> list[tuple[int, float, str]]:
        """One `scripts.SUBMIT` call for every create of a batch; (arrival number, slot free, id) each."""
        slots: dict[str, int] = {}
        keys = [self.key("ids"), self.key("jobs"), self.key("jobs", "created"), self.key("unplanned")]
        args: list[str | int | bytes] = [
            *(self.jobs.ids.key, self.key("job", ""), self._ttl_ms, self.settings.max_jobs),
            *(repr(max(c.now for c in creates) - self.settings.job_ttl), self.fleet.channel),
            *(self.jobs.concurrency, self._ttl_ms),
        ]
        for c in creates:
            index = slots.get(c.account)
            if index is None:
                keys.append(self.key("slots", c.account))
                index = slots[c.account] = len(keys)
            args += [index, repr(c.now), repr(c.queued_extra), _num(c.run), _num(c.deadline), c.draft, int(c.hooked)]
        out = await self._submit(keys=keys, args=args)
        return [(int(out[i]), float(out[i + 1]), str(out[i + 2])) for i in range(0, len(out), 3)]

    async def _plan_batch(self, plans: list[tuple[str, list[Planned]]]) -> list[None]:
        """One `scripts.PLAN` call: each job's deliveries, written if the job is still marked unplanned."""
        args: list[str | int | float] = [self.outbox.job_prefix]
        for message_id, planned in plans:
            args += [message_id, len(planned)]
            for p in planned:
                args += [p.delivery_id, p.record, repr(p.due)]
        await self._plan(keys=[self.key("unplanned"), self.outbox.key, self.outbox.records], args=args)
        if any(planned for _, planned in plans):
            self.outbox.wake(self.clock.now())  # written: the pump may claim them now
        return [None] * len(plans)

    async def _sweep_unplanned(self) -> None:
        """Plan the jobs whose creator died before planning them (marked longer than the lease)."""
        while True:
            await asyncio.sleep(self._sweep_s)
            try:
                await self.sweep()
            except (RedisError, OSError) as exc:
                self.outage.failed(exc)

    async def sweep(self, age_ms: int | None = None) -> int:
        """Plan every job marked unplanned for longer than `age_ms` (``--webhook-lease-s``); how many were found."""
        age = self._lease_ms if age_ms is None else age_ms
        found = await self._unplanned(keys=[self.key("unplanned")], args=[age, 100])
        for message_id in map(str, found):
            job = await self.find(message_id)
            if job is None or job.version > 0:  # gone, or forced: its forced state planned what follows
                await self.client.zrem(self.key("unplanned"), message_id)
                continue
            self.jobs.announce(job)
            await self._plans((message_id, self.outbox.take(message_id)))
        return len(found)

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

    # --- admin changes, published --------------------------------------------------------------------------

    async def clock_changed(self) -> None:
        """Write this worker's clock offset and freeze, and have every worker take them."""
        offset, frozen_at = self.clock.state()
        await self.client.hset(self.key("clock"), mapping={"offset": repr(offset), "frozen_at": _opt(frozen_at)})
        await self.fleet.publish("clock", offset=offset, frozenAt=frozen_at)

    async def rules_changed(self) -> None:
        """Write the rules armed or cleared here, one hash field each, and have every worker take the fleet's.

        Only this worker's changes are written (HSET of a rule armed here, HDEL of one it knew and no longer
        holds), so a rule another worker armed at the same instant is never overwritten. Every write bumps a
        version read with the rules in the same transaction; a worker takes a snapshot only if it is newer than
        the one it holds, so the last one applied is always the fleet's latest.
        """
        local = {r.id: r for r in self.engine.admin_rules()}
        added = [_rule_record(r) for rule_id, r in local.items() if rule_id not in self._rule_ids]
        removed = [str(rule_id) for rule_id in self._rule_ids if rule_id not in local]
        self._rule_ids = set(local)
        armed = self.key("rules", "armed")
        async with self.client.pipeline(transaction=True) as pipe:
            if added:
                pipe.hset(armed, mapping={str(r["id"]): orjson.dumps(r) for r in added})
            if removed:
                pipe.hdel(armed, *removed)
            for rule in added:
                if rule["count"] is not None:
                    pipe.set(self.key("rule", str(rule["id"])), rule["count"], nx=True, ex=86_400)
            pipe.incr(self.key("rules", "version"))
            pipe.hgetall(armed)
            *_, version, records = await pipe.execute()
        self._take_rules(int(version), records)
        await self.fleet.publish("rules")

    async def _load_rules(self) -> None:
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.key("rules", "version"))
            pipe.hgetall(self.key("rules", "armed"))
            version, records = await pipe.execute()
        self._take_rules(int(version or 0), records)

    def _take_rules(self, version: int, records: dict[str, str]) -> None:
        if version < self._rules_version:
            return  # an older snapshot that arrived late
        self._rules_version = version
        rules = sorted((orjson.loads(r) for r in records.values()), key=lambda r: int(r["id"]))
        self.engine.replace_admin_rules(_rules_from(rules))
        self._rule_ids = {int(r["id"]) for r in rules}

    async def rule_id(self) -> int:
        """The next admin rule id of the whole fleet (INCR): two workers arming at once never share one."""
        return self.engine.file_rule_count + int(await self.client.incr(self.key("rule-ids")))

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
        await self._count_file_rules(overwrite=True)
        self._forget_rules()
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
            await self._load_rules()
        elif kind == "credits":
            self._credits_used = True
        elif kind == "reset":
            self.on_reset()
            self._forget_rules()
            self._credits_used = self.settings.credits is not None
        elif kind == "flush":
            await self._flush_journals()

    def _forget_rules(self) -> None:
        self._rule_ids, self._rules_version = set(), 0  # the version counter was deleted with the rest

    async def _count_file_rules(self, *, overwrite: bool) -> None:
        for rule in self.engine.rules:
            if rule.source != "admin" and rule.remaining is not None:
                await self.client.set(self.key("rule", str(rule.id)), rule.remaining, nx=not overwrite, ex=86_400)

    # --- counted state, decided in Redis -------------------------------------------------------------------

    async def take(self, rule: Rule) -> bool:
        """Use one of the rule's matches fleet-wide."""
        return int(await self.client.decr(self.key("rule", str(rule.id)))) >= 0

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

    def _mirror(self, name: str, entry: Any) -> None:
        self._queued[name].append((entry.at, orjson.dumps(entry.as_dict())))
        if self._wanted is not None:
            self._wanted.set()

    async def _write_journals(self) -> None:
        assert self._wanted is not None
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            try:
                await self._flush_journals()
            except (RedisError, OSError) as exc:
                self.outage.failed(exc)
                await asyncio.sleep(0.5)
                self._wanted.set()

    async def _flush_journals(self) -> None:
        for name, queued in self._queued.items():
            while queued:
                batch, queued[:] = queued[:FLUSH_BATCH], queued[FLUSH_BATCH:]
                args: list[Any] = [self.settings.journal_size]
                for at, data in batch:
                    args += [repr(at), data]
                await self._append(keys=[self.key(name), self.key(name, "seq")], args=args)

    async def _read_journal(self, name: str) -> list[dict[str, Any]]:
        await self._flush_journals()
        await self.fleet.publish("flush")  # every worker writes what it holds before the fleet's journal is read
        entries = []
        for member in await self.client.zrange(self.key(name), 0, -1):
            seq, _, data = str(member).partition("|")
            entry = orjson.loads(data)
            entry["seq"] = int(seq)
            entries.append(entry)
        return entries

    async def requests(self, *, message_id: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Every worker's requests, in arrival order."""
        found = await self._read_journal("requests")
        return [e for e in found if e["seq"] > since and (message_id is None or e.get("messageId") == message_id)]

    async def webhook_attempts(
        self, *, message_id: str | None = None, delivery_id: str | None = None, since: int = 0
    ) -> list[dict[str, Any]]:
        """Every worker's webhook attempts, in order."""
        found = await self._read_journal("webhooks")
        return [
            e
            for e in found
            if e["seq"] > since
            and (message_id is None or e.get("messageId") == message_id)
            and (delivery_id is None or e.get("deliveryId") == delivery_id)
        ]

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
            for name in ("jobs", "requests", "webhooks"):
                pipe.zcard(self.key(name))
            jobs, requests, webhooks = await pipe.execute()
        return {"jobs": int(jobs), "requests": int(requests), "webhooks": int(webhooks)}


def _num(value: float) -> str:
    return repr(value) if math.isfinite(value) else scripts.INF


def _opt(value: float | None) -> str:
    return "" if value is None else repr(value)


def _rule_record(rule: Rule) -> dict[str, Any]:
    regex = rule.prompt_regex.pattern if rule.prompt_regex is not None else None
    scenario = ",".join(s.text for s in rule.scenarios)
    return {"id": rule.id, "scenario": scenario, "count": rule.remaining, "promptRegex": regex}


def _rules_from(records: list[dict[str, Any]]) -> list[Rule]:
    return [
        make_rule(int(r["id"]), str(r["scenario"]), count=r["count"], prompt_regex=r["promptRegex"]) for r in records
    ]
