"""Webhooks through a shared outbox (``--store redis://``): planned ahead, claimed under leases, sent by any worker.

A job's plan never changes, so its webhook events are known when it is created: `plan_ahead` runs the
webhook service's own evaluation over mock time at once (a `Planner` instead of the scheduler) and every
delivery goes to the outbox with its due instant. Each worker's `OutboxPump` claims due deliveries (one
worker holds a job's deliveries at a time, under a lease it keeps renewing), sends them with the ordinary
`Dispatcher` (retries, signing, faults, journal), and removes them once ended. A worker that dies stops
renewing; after the lease another worker takes the delivery over and journals the attempt as a takeover.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Any, Protocol

from mock_server.domain.clock import Clock
from mock_server.services.outages import Outage
from mock_server.services.tasks import stop_task
from mock_server.services.webhooks.delivery import Delivery, Dispatcher

log = logging.getLogger("flux_mock.webhooks")

POLL_S = 0.25  # longest a pump sleeps: deliveries other workers planned, and leases of dead workers, are seen by then


class SharedOutbox(Protocol):
    """What the pump and the planner need from a shared store's outbox (`stores.outbox.RedisOutbox`)."""

    lease_ms: int
    wake: Callable[[float], None]
    outage: Outage  # the store's: a lost store is said once, not at every poll

    def unreachable(self, exc: BaseException) -> bool: ...

    def put(self, delivery_id: str, message_id: str, record: dict[str, Any], due: float) -> None: ...

    def cancel_after(self, message_id: str, now: float) -> None: ...

    async def claim(
        self, now: float, limit: int = 64
    ) -> tuple[list[tuple[str, dict[str, Any], int]], float | None]: ...

    async def done(self, delivery_id: str, message_id: str) -> None: ...

    async def renew(self, message_ids: list[str]) -> None: ...

    async def release(self, delivery_ids: list[str], message_ids: list[str]) -> None: ...


class Planner:
    """Timers run at once, in instant order: the webhook service's evaluation over a job's whole future."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        """Run `callback` after everything due before `when`."""
        heapq.heappush(self._heap, (when, next(self._seq), callback))

    def run(self, limit: int = 10_000) -> None:
        """Run every timer (and those they add), earliest first; at most `limit` of them."""
        for _ in range(limit):
            if not self._heap:
                return
            heapq.heappop(self._heap)[2]()
        log.warning("webhook planning stopped after %d steps", limit)


class OutboxPump:
    """Claim due deliveries from the shared outbox and hand them to this worker's dispatcher."""

    def __init__(self, outbox: SharedOutbox, dispatcher: Dispatcher, clock: Clock) -> None:
        self.outbox = outbox
        self.dispatcher = dispatcher
        self.clock = clock
        self.holding: dict[str, str] = {}  # delivery id -> message id, claimed here and not ended
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Run on the current loop; clock jumps and new deliveries wake it."""
        self._loop = asyncio.get_running_loop()
        self.outbox.wake = lambda due: self.poke()
        self.clock.subscribe(lambda now: self.poke())
        self._task = self._loop.create_task(self._run(), name="flux-mock-outbox")

    def poke(self) -> None:
        """Look at the outbox now (from any thread)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Stop claiming (what was claimed is still being sent)."""
        task, self._task = self._task, None
        await stop_task(task)

    async def release(self) -> None:
        """Hand back what this worker still holds (after the dispatcher closed), so another worker sends it at once."""
        if self._done:
            await asyncio.gather(*self._done, return_exceptions=True)
        held = dict(self.holding)
        with contextlib.suppress(Exception):
            await self.outbox.release(list(held), sorted(set(held.values())))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        renew_every = max(0.05, self.outbox.lease_ms / 3000)
        renewed = loop.time()
        while True:
            self._wake.clear()
            nxt: float | None = None
            try:
                now = self.clock.now()
                claimed, nxt = await self.outbox.claim(now)
                for _, record, takes in claimed:
                    self._send(Delivery.from_record(record, takeover=takes - 1))
                if loop.time() - renewed >= renew_every:
                    renewed = loop.time()
                    await self.outbox.renew(sorted(set(self.holding.values())))
                self.outbox.outage.recovered()
            except Exception as exc:  # Redis away for a moment: keep the pump alive, try again shortly
                if self.outbox.unreachable(exc):
                    self.outbox.outage.failed(exc)
                else:
                    log.exception("the webhook outbox could not be read; retrying")
            wait = min(POLL_S, renew_every)
            if nxt is not None:
                wait = min(wait, max(0.0, nxt - self.clock.now()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    def _send(self, delivery: Delivery) -> None:
        self.holding[delivery.delivery_id] = delivery.message_id
        delivery.on_done = self._ended
        self.dispatcher.submit(delivery)

    def _ended(self, delivery: Delivery) -> None:
        task = asyncio.get_running_loop().create_task(self._forget(delivery))
        self._done.add(task)
        task.add_done_callback(self._done.discard)

    async def _forget(self, delivery: Delivery) -> None:
        try:
            await self.outbox.done(delivery.delivery_id, delivery.message_id)
        except Exception as exc:
            if self.outbox.unreachable(exc):
                self.outbox.outage.failed(exc)
            else:
                log.exception("could not remove delivery %s from the outbox", delivery.delivery_id)
        finally:
            self.holding.pop(delivery.delivery_id, None)
