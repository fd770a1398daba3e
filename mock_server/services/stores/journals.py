"""The fleet's journals in Redis: each worker mirrors its request and webhook journals there, read by any worker.

Every entry a worker journals is queued and pushed in the background onto one Redis list per journal, in the
order written, bounded by ``--journal-size`` (plus `SLACK`), beside a count of the entries ever written
(`ScriptPipe.append`, over the store's lean connection). A reader sorts them by instant: an entry's sequence
number is its place in the fleet's arrival order (`scripts.READ` gives the number before the first entry it
reads), so however late a worker got to write an entry, a request answered after another has the higher number.
A list, not a sorted set: Redis keeps one for ~2.5 µs of CPU per entry against ~8 (a sorted set filled by a
script), and that was most of what a poll costs more on Redis.

A request entry wakes the writer at once when the worker is quiet: no other request being answered here and at
most `BUSY_COUNT` entries in the last `BUSY_S`, so a quiet fleet's journal in Redis is current within a turn of
the event loop. A busy worker's entries gather for up to `GATHER_S` (or `GATHER_MAX` of them):
each write costs the worker a few tens of µs of CPU, and a write per two or three polls was most of what a poll
costs more on Redis. What queues while a write is in flight goes together in the next one. A fleet read first has
every worker write what it holds (a ``flush`` change, acknowledged), so it sees every request answered before it;
one still being answered then is listed at its arrival later, and the numbers after it move up by one (in one
process such a request is missed by a reader's ``since`` the same way).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mock_server.domain.records.journal import Journal, entry_from_wire
from mock_server.domain.stores import scripts
from mock_server.domain.webhooks.journal import WebhookJournal
from mock_server.services.outages import Outage
from mock_server.services.stores.fleet import Fleet
from mock_server.services.stores.pipe import ScriptPipe
from mock_server.services.tasks import stop_task

FLUSH_BATCH = 500  # journal entries per write
GATHER_S = 0.005  # longest a request entry waits for others while requests are being answered
GATHER_MAX = 256  # entries that wake the writer at once however busy the worker is
BUSY_S, BUSY_COUNT = 0.002, 4  # more request entries than this within this many seconds: the worker is busy
NAMES = ("requests", "webhooks")
# Entries kept and read beyond those shown: one written late (a busy worker's gathered write) still sorts among
# those that arrived after it, with the same number, unless more than this many were written in between.
SLACK = 2 * GATHER_MAX


class FleetJournals:
    """This worker's journals mirrored to Redis, and the fleet's read back."""

    def __init__(
        self,
        client: aioredis.Redis,
        key: Callable[..., str],
        fleet: Fleet,
        outage: Outage,
        journal: Journal,
        webhook_journal: WebhookJournal,
        size: int,
        pipe: ScriptPipe,
    ) -> None:
        self.client = client
        self.key = key
        self.fleet = fleet
        self.outage = outage
        self.journal = journal
        self.webhook_journal = webhook_journal
        self.size = size
        self.pipe = pipe
        self._read = client.register_script(scripts.READ)
        self._queued: dict[str, list[Any]] = {name: [] for name in NAMES}  # items as the local journals hold them
        self._wanted: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._window = (0.0, 0)  # when the current busy window began, and the request entries in it
        self._loop: asyncio.AbstractEventLoop | None = None  # asked once: get_running_loop costs a getpid() on 3.11
        self.gather_s = GATHER_S  # tests lengthen these to see entries wait
        self.busy_s = BUSY_S

    def start(self) -> None:
        """Mirror every entry journalled from now on."""
        self._wanted = asyncio.Event()
        self._loop = loop = asyncio.get_running_loop()
        self.journal.sink = self._mirror_request
        self.webhook_journal.sink = self._mirror_webhook
        self._writer = loop.create_task(self._write(), name="flux-mock-journal")

    async def aclose(self) -> None:
        """Stop mirroring; write what is still queued (unless Redis is away)."""
        self.journal.sink = self.webhook_journal.sink = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        writer, self._writer = self._writer, None
        await stop_task(writer)
        with contextlib.suppress(RedisError, OSError):
            await self.flush()

    # Items are queued as the journal holds them and encoded by the writer, a batch at a time: encoding one
    # between two requests cost ~11 µs over the socket (caches gone cold), in a batch ~2.

    def _mirror_webhook(self, item: Any) -> None:
        self._queued["webhooks"].append(item)
        self._wake()

    def _mirror_request(self, item: Any) -> None:
        # Every request pays this.
        queued = self._queued["requests"]
        queued.append(item)
        loop = self._loop
        if loop is None:  # not started: nothing writes yet
            return
        began, count = self._window
        now = loop.time()
        self._window = (now, 1) if now - began > self.busy_s else (began, count + 1)
        busy = self.journal.open > 0 or self._window[1] > BUSY_COUNT
        if not busy or len(queued) >= GATHER_MAX:
            self._wake()
        elif self._timer is None:
            self._timer = loop.call_later(self.gather_s, self._wake)

    def _wake(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        wanted = self._wanted
        if wanted is not None and not wanted.is_set():
            wanted.set()

    async def _write(self) -> None:
        assert self._wanted is not None
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            try:
                await self.flush()
            except (RedisError, OSError) as exc:
                self.outage.failed(exc)
                await asyncio.sleep(0.5)
                self._wanted.set()

    async def flush(self) -> None:
        """Write what this worker's journals queued."""
        for name, queued in self._queued.items():
            while queued:
                batch, queued[:] = queued[:FLUSH_BATCH], queued[FLUSH_BATCH:]
                await self.pipe.append(*self.keys(name), self.size + SLACK, [self._wire(name, i) for i in batch])

    def _wire(self, name: str, item: Any) -> bytes:
        # An item's compact JSON, as `read` parses it back
        if name == "requests":
            return self.journal.wire(item)
        return orjson.dumps(self.webhook_journal.materialise(item).as_dict())

    def keys(self, name: str) -> tuple[str, str]:
        """The journal's list, and how many entries were ever written to it (trimmed ones included)."""
        return self.key(name, "entries"), self.key(name, "written")

    async def read(self, name: str, last: int | None = None) -> list[dict[str, Any]]:
        """The fleet's journal `name` (its newest `last` entries), oldest first, once every worker wrote its own."""
        if name not in NAMES:
            raise ValueError(f"journal has value {name!r}; it must be one of {', '.join(NAMES)}.")
        await self.flush()
        await self.fleet.publish("flush")  # every worker writes what it holds before the fleet's journal is read
        shown = self.size if last is None else min(last, self.size)
        before, items = await self._read(keys=list(self.keys(name)), args=[shown + SLACK])
        entries = [entry_from_wire(data) if name == "requests" else orjson.loads(data) for data in items]
        entries.sort(key=_instant)  # stable: entries of one instant (a stopped clock) stay in the order written
        for place, entry in enumerate(entries, start=int(before) + 1):
            entry["seq"] = place
        return entries[-shown:] if shown > 0 else []


def _instant(entry: dict[str, Any]) -> float:
    return float(entry["at"])
