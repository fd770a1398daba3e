"""Jobs created in Redis, in batches, and their webhook plans written exactly once (a transactional outbox).

A job is numbered, given its account's slot, written and (with a webhook target) marked "unplanned" by one
script call (`scripts.SUBMIT`) for every create of an event-loop turn (`Batches`: one round trip per batch, not
per request). Its planned deliveries are then written by whoever removes the mark (`scripts.PLAN`): the creator,
or, if it died in between, any worker's sweep after ``--webhook-lease-s`` (plans are a pure function of the
record, so whoever plans writes the same deliveries). A crash between the two steps delays a webhook; it never
loses it or sends it twice.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import signal
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mock_server.config.settings import Settings
from mock_server.domain.clock import Clock
from mock_server.domain.jobs import Job, JobStore, Timing, assemble_job, eviction_batch, plan_job
from mock_server.domain.lifecycle import run_length
from mock_server.domain.stores import scripts
from mock_server.domain.stores.records import draft
from mock_server.services.outages import Outage
from mock_server.services.stores.batches import Batches
from mock_server.services.stores.fleet import Fleet
from mock_server.services.stores.outbox import Planned, RedisOutbox
from mock_server.services.stores.pipe import ScriptPipe
from mock_server.services.tasks import stop_task

log = logging.getLogger("flux_mock.store")

# Test-only: SIGKILL this worker right after a create script wrote a job with a webhook target, before its
# deliveries are written (the crash window `tests/fleet` proves safe). Not a FLUX_MOCK_* setting on purpose.
CRASH_AFTER_CREATE = os.environ.get("FLUXMOCK_TEST_CRASH_AFTER_CREATE") == "1"
SWEEP_LIMIT = 100  # unplanned jobs planned per sweep


class _Create(NamedTuple):
    """One create waiting for the batch's script call."""

    account: str
    now: float
    queued_extra: float
    run: float
    deadline: float
    draft: bytes
    hooked: bool  # it has a webhook target: marked unplanned until its deliveries are written


class FleetCreates:
    """Create jobs in Redis (batched) and write each one's webhook plan once, whoever survives to write it."""

    def __init__(
        self,
        client: aioredis.Redis,
        key: Callable[..., str],
        settings: Settings,
        jobs: JobStore,
        clock: Clock,
        outbox: RedisOutbox,
        fleet: Fleet,
        pipe: ScriptPipe,
        find: Callable[[str], Awaitable[Job | None]],
        outage: Outage,
    ) -> None:
        self.client = client
        self.key = key
        self.settings = settings
        self.jobs = jobs
        self.clock = clock
        self.outbox = outbox
        self.fleet = fleet  # evictions are published on its channel and acknowledged by every worker
        self.pipe = pipe
        self.find = find
        self.outage = outage
        self.unplanned = key("unplanned")
        self._submit = client.register_script(scripts.SUBMIT)
        self._plan = client.register_script(scripts.PLAN)
        self._unplanned = client.register_script(scripts.UNPLANNED)
        self.batches: Batches[_Create, tuple[int, float, str]] = Batches(self._create_batch)
        self.plans: Batches[tuple[str, list[Planned]], None] = Batches(self._plan_batch)
        self._ttl_ms = max(1, int(min(settings.job_ttl, 10 * 365 * 86_400) * 1000))
        self._lease_ms = max(1, int(settings.webhook_lease_s * 1000))
        self._sweep_s = max(0.1, settings.webhook_lease_s / 2)
        self._sweeper: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sweep for jobs left unplanned by a worker that died."""
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_unplanned(), name="flux-mock-unplanned")

    async def aclose(self) -> None:
        """Stop sweeping."""
        sweeper, self._sweeper = self._sweeper, None
        await stop_task(sweeper)

    async def submit(self, account: str, timing: Timing, fields: Mapping[str, Any], progress_step: int = 1) -> Job:
        """Create the job (with this turn's other creates, one script call), then write its planned webhooks.

        The create script marks a job with a webhook target "unplanned" in the same step that writes it; the
        deliveries planned here are written only by whoever removes that mark (`scripts.PLAN`). A worker that
        dies between the two steps leaves the mark, and any worker's sweep plans the job after
        ``--webhook-lease-s`` (plans are a pure function of the record): the webhook is sent once, late.
        """
        now = self.clock.now()
        run = run_length(timing.duration, timing.fail_at, timing.stall_at)
        timeout: int = fields["timeout"]
        deadline = now + timeout if timing.honour_timeout else math.inf
        record = draft(
            created_at=now,
            timing=timing,
            progress_step=progress_step,
            fields={"account": account, **fields},
        )
        hooked = bool(fields.get("webhook_url") or self.settings.webhook_url)
        create = _Create(account, now, timing.queued_extra, run, deadline, record, hooked)
        n, slot_free, message_id = await self.batches(create)
        job_plan = plan_job(now, slot_free, timeout, timing, progress_step)
        job = assemble_job(message_id, account, job_plan, n, timing, fields)
        self.jobs.adopt(job)
        if hooked and CRASH_AFTER_CREATE:
            os.kill(os.getpid(), signal.SIGKILL)  # the crash window, for the fleet test: created, not planned
        self.jobs.announce(job)  # the webhook service plans its deliveries (`RedisOutbox.put`)
        if hooked:
            planned = self.outbox.take(job.message_id)
            try:
                await self.plans((job.message_id, planned))
            except (RedisError, OSError) as exc:  # the job exists: answer it; a sweep plans it once Redis is back
                self.outage.failed(exc)
        return job

    async def _create_batch(self, creates: list[_Create]) -> list[tuple[int, float, str]]:
        """One `scripts.SUBMIT` call for every create of a batch; (arrival number, slot free, id) each."""
        slots: dict[str, int] = {}
        change = str(uuid.uuid4())  # the id of this call's eviction message, if it evicts
        keys = [self.key("ids"), self.key("jobs"), self.key("jobs", "created"), self.unplanned]
        args: list[str | int | bytes] = [
            *(self.jobs.ids.key, self.key("job", ""), self._ttl_ms, self.settings.max_jobs),
            *(repr(max(c.now for c in creates) - self.settings.job_ttl), self.fleet.channel),
            *(self.jobs.concurrency, self._ttl_ms, eviction_batch(self.settings.max_jobs), change),
        ]
        for c in creates:
            index = slots.get(c.account)
            if index is None:
                keys.append(self.key("slots", c.account))
                index = slots[c.account] = len(keys)
            args += [index, repr(c.now), repr(c.queued_extra), _num(c.run), _num(c.deadline), c.draft, int(c.hooked)]
        out = await self.pipe.run(self._submit, keys, args)
        reached = int(out.pop())
        if reached:  # jobs were forgotten: answer once every worker dropped its copies (else a poll finds them)
            await self.fleet.acknowledged("evict", change, reached)
        return [(int(out[i]), float(out[i + 1]), str(out[i + 2])) for i in range(0, len(out), 3)]

    async def _plan_batch(self, plans: list[tuple[str, list[Planned]]]) -> list[None]:
        """One `scripts.PLAN` call: each job's deliveries, written if the job is still marked unplanned."""
        args: list[str | int | float] = [self.outbox.job_prefix]
        for message_id, planned in plans:
            args += [message_id, len(planned)]
            for p in planned:
                args += [p.delivery_id, p.record, repr(p.due)]
        await self.pipe.run(self._plan, [self.unplanned, self.outbox.key, self.outbox.records], args)
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
            except Exception:  # one bad record must not stop the sweeps that follow
                log.exception("could not plan the webhooks of a job its creator left unplanned")

    async def sweep(self, age_ms: int | None = None) -> int:
        """Plan every job marked unplanned for longer than `age_ms` (``--webhook-lease-s``); how many were found."""
        age = self._lease_ms if age_ms is None else age_ms
        found = await self._unplanned(keys=[self.unplanned], args=[age, SWEEP_LIMIT])
        for message_id in map(str, found):
            job = await self.find(message_id)
            if job is None or job.version > 0:  # gone, or forced: its forced state planned what follows
                await self.client.zrem(self.unplanned, message_id)
                continue
            self.jobs.announce(job)
            await self.plans((message_id, self.outbox.take(message_id)))
        return len(found)


def _num(value: float) -> str:
    return repr(value) if math.isfinite(value) else scripts.INF
