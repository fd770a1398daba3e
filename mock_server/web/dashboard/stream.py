"""The dashboard's live feed: Server-Sent Events from the journals' subscriptions, batched per flush.

One `Feed` per open page. It subscribes to the request journal and the webhook journal only while the page
is connected (`BoundedLog.subscribe`; with no page open, `append` has no subscriber to offer entries to), and
every `flush_s` seconds sends at most one event of each kind:

- ``health``, ``jobs`` and (for a job page) ``job``: recomputed from the plans at the clock's now, because job
  state changes with time, not with journal entries; sent only when different from the last one sent.
- ``requests`` and ``webhooks``: the entries that arrived since the last flush (the newest `BATCH`; ``skipped``
  says how many more came), or the tail (`ROWS`) with ``reset: true`` on connect and after ``POST /__mock/reset``.

With a shared store (``--store redis://``) every view is read through the store: the jobs (`Store.newest`), the
counts, and the journals' tails, read again at each flush with the fleet's sequence numbers (`_SharedFollow`),
so a page shows the same rows whichever worker serves its stream.

So a page gets at most four small updates a second, and one a second under heavy traffic. A stream ends after
`lifetime_s` and the page reconnects: an open page never holds a shutting-down server for longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Generic, TypeVar, Union

import orjson

from mock_server.domain.records.journal import RequestRecorded
from mock_server.domain.records.log import BoundedLog, Subscription
from mock_server.domain.stores.base import Store
from mock_server.domain.webhooks.journal import WebhookAttempted
from mock_server.services.control import MockControl
from mock_server.web.dashboard.views import (
    ROWS,
    JobFilter,
    health_view,
    job_detail,
    jobs_view,
    request_row,
    webhook_row,
)

FLUSH_S = 0.25  # at most 4 updates a second per page
# Under heavy traffic (more than BUSY new entries since the last flush) a page gets one update a second, with
# the newest BATCH entries: each flush is a millisecond or two of work on the event loop the API runs on,
# and spacing them out keeps that off the API's p99.
BUSY = 100
BUSY_FLUSH_S = 1.0
BATCH = 50
LIFETIME_S = 20.0
KEEPALIVE_S = 10.0  # a comment line when nothing changed, so proxies and the page see the stream is alive
QUEUE = 1000  # per subscription; a reader that falls behind loses the oldest (counted as skipped)

E = TypeVar("E", RequestRecorded, WebhookAttempted)
_Followed = Union["_Follow[RequestRecorded]", "_Follow[WebhookAttempted]", "_SharedFollow"]


def sse(event: str, data: Any) -> bytes:
    """One Server-Sent Event: ``event: <name>`` and one ``data:`` line of JSON (orjson never emits newlines)."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class _Sink(Generic[E]):
    """What one subscription delivered since the last flush: the newest `ROWS`, and every one about `job_id`."""

    def __init__(self, job_id: str | None) -> None:
        self.job_id = job_id
        self.recent: deque[E] = deque(maxlen=BATCH)
        self.arrived = 0
        self.last_arrived = 0  # how many arrived before the last `take`: how busy the log is
        self.mine: list[E] = []

    def add(self, entry: E) -> None:
        self.recent.append(entry)
        self.arrived += 1
        if self.job_id is not None and entry.message_id == self.job_id:
            self.mine.append(entry)
            del self.mine[:-ROWS]

    def take(self) -> tuple[list[E], int]:
        self.last_arrived = self.arrived
        batch, skipped = list(self.recent), self.arrived - len(self.recent)
        self.recent.clear()
        self.arrived = 0
        return batch, skipped


async def _collect(subscription: Subscription[E], sink: _Sink[E]) -> None:
    async for entry in subscription:
        sink.add(entry)


class _Follow(Generic[E]):
    """One local journal followed for one page: its subscription, sink, and the last sequence number sent."""

    def __init__(self, log: BoundedLog[E], job_id: str | None) -> None:
        self.log: BoundedLog[E] = log
        self.subscription: Subscription[E] = log.subscribe(QUEUE)
        self.sink: _Sink[E] = _Sink(job_id)
        self.last_seq = 0
        self.length = 0
        self.overlap = True  # the first flush may repeat entries of the tail read just after subscribing

    @property
    def arrived(self) -> int:
        """How many entries arrived before the last flush: how busy the log is."""
        return self.sink.last_arrived

    def start(self) -> asyncio.Task[None]:
        """Collect what the subscription delivers (the task ends when cancelled)."""
        return asyncio.create_task(_collect(self.subscription, self.sink))

    def close(self) -> None:
        """Stop following."""
        self.subscription.close()

    async def first(self) -> list[dict[str, Any]]:
        """The log's tail, read once after subscribing."""
        tail = self.log.tail(ROWS)
        self._seen(tail)
        return [e.as_dict() for e in tail]

    def _seen(self, entries: list[E]) -> None:
        if entries:
            self.last_seq = entries[-1].seq
        self.length = len(self.log)

    async def flush(self) -> tuple[list[dict[str, Any]], int, bool] | None:
        """New entries since the last flush, how many were skipped, and whether the log was reset; None: nothing."""
        batch, skipped = self.sink.take()
        if self.overlap:
            self.overlap = False
            batch = [e for e in batch if e.seq > self.last_seq]
        # Sequence numbers only grow until `clear()` (reset), which also shrinks the log.
        if len(self.log) < self.length or any(e.seq <= self.last_seq for e in batch):
            tail = self.log.tail(ROWS)
            self._seen(tail)
            return [e.as_dict() for e in tail], 0, True
        self.length = len(self.log)
        if not batch:
            return None
        self.last_seq = batch[-1].seq
        return [e.as_dict() for e in batch], skipped, False

    def mine(self) -> list[dict[str, Any]]:
        """The entries about the page's job that arrived since the last call."""
        found = [e.as_dict() for e in self.sink.mine]
        self.sink.mine.clear()
        return found


class _SharedFollow:
    """One fleet journal followed for one page through a shared store: its tail, read again at every flush.

    Every worker's entries are in it (the store has each worker write what it holds before the read), with the
    fleet's sequence numbers: whichever worker serves the stream, the page shows the same rows.
    """

    def __init__(self, store: Store, journal: str, job_id: str | None) -> None:
        self.store = store
        self.journal = journal
        self.job_id = job_id
        self.last_seq = 0
        self.arrived = 0
        self._mine: list[dict[str, Any]] = []

    def start(self) -> None:
        """Nothing runs between flushes."""

    def close(self) -> None:
        """Nothing to stop."""

    async def first(self) -> list[dict[str, Any]]:
        """The fleet journal's tail."""
        tail = await self.store.tail(self.journal, ROWS)
        self.last_seq = max((e["seq"] for e in tail), default=0)
        return tail

    async def flush(self) -> tuple[list[dict[str, Any]], int, bool] | None:
        """Entries new since the last flush; after a reset (sequence numbers went back) the tail again."""
        tail = await self.store.tail(self.journal, ROWS)
        top = max((e["seq"] for e in tail), default=0)
        if top < self.last_seq:
            self.last_seq, self.arrived = top, len(tail)
            return tail, 0, True
        new = [e for e in tail if e["seq"] > self.last_seq]
        self.arrived = len(new)
        if not new:
            return None
        self.last_seq = top
        if self.job_id is not None:
            self._mine += [e for e in new if e.get("messageId") == self.job_id]
        return new, 0, False

    def mine(self) -> list[dict[str, Any]]:
        """The entries about the page's job that arrived since the last call."""
        found, self._mine = self._mine, []
        return found


class Feed:
    """The event stream of one open dashboard page (`events()`), optionally focused on one job."""

    def __init__(
        self,
        control: MockControl,
        wanted: JobFilter,
        job_id: str | None = None,
        *,
        flush_s: float = FLUSH_S,
        lifetime_s: float = LIFETIME_S,
    ) -> None:
        self.control = control
        self.wanted = wanted
        self.job_id = job_id
        self.flush_s = flush_s
        self.lifetime_s = lifetime_s
        self._last: dict[str, bytes] = {}
        self._job_requests: list[dict[str, Any]] = []
        self._job_attempts: list[dict[str, Any]] = []

    async def events(self) -> AsyncIterator[bytes]:
        """Yield SSE frames until `lifetime_s` has passed (or the client goes away and this is cancelled)."""
        svc = self.control.services
        loop = asyncio.get_running_loop()
        requests: _Follow[RequestRecorded] | _SharedFollow
        webhooks: _Follow[WebhookAttempted] | _SharedFollow
        if svc.store.shared:  # the fleet's journals, read through the store
            requests = _SharedFollow(svc.store, "requests", self.job_id)
            webhooks = _SharedFollow(svc.store, "webhooks", self.job_id)
        else:
            requests, webhooks = _Follow(svc.journal, self.job_id), _Follow(svc.webhooks.journal, self.job_id)
        tasks = [task for task in (requests.start(), webhooks.start()) if task is not None]
        try:
            # Subscribed first, then the tails read: an entry in both is dropped by its sequence number.
            yield b"retry: 1000\n\n"
            yield sse("requests", _batch([request_row(e) for e in await requests.first()], 0, True))
            yield sse("webhooks", _batch([webhook_row(a) for a in await webhooks.first()], 0, True))
            await self._read_job_entries()
            ends = loop.time() + self.lifetime_s
            quiet_since = loop.time()
            while True:
                sent = False
                try:
                    frames = await self._flush(requests, webhooks)
                except Exception as exc:  # a shared store away for a moment: said once, the page keeps its rows
                    if svc.store.describe_error(exc) is None:
                        raise
                    frames = []
                for frame in frames:
                    sent = True
                    yield frame
                now = loop.time()
                if sent:
                    quiet_since = now
                elif now - quiet_since >= KEEPALIVE_S:
                    quiet_since = now
                    yield b": keepalive\n\n"
                if now >= ends:
                    yield sse("reconnect", {"after": 0})
                    return
                busy = requests.arrived + webhooks.arrived > BUSY
                await asyncio.sleep(max(self.flush_s, BUSY_FLUSH_S) if busy else self.flush_s)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            requests.close()
            webhooks.close()

    async def _read_job_entries(self) -> None:
        # Once per connection (and after a reset): these reads go through the whole journal.
        if self.job_id is not None:
            store = self.control.services.store
            self._job_requests = (await store.requests(message_id=self.job_id))[-ROWS:]
            self._job_attempts = (await store.webhook_attempts(message_id=self.job_id))[-ROWS:]

    async def _flush(self, requests: _Followed, webhooks: _Followed) -> list[bytes]:
        frames: list[bytes] = []
        now = self.control.now
        new_requests, new_attempts = await requests.flush(), await webhooks.flush()
        if new_requests is not None:
            entries, skipped, reset = new_requests
            frames.append(sse("requests", _batch([request_row(e) for e in entries], skipped, reset)))
        if new_attempts is not None:
            attempts, skipped, reset = new_attempts
            frames.append(sse("webhooks", _batch([webhook_row(a) for a in attempts], skipped, reset)))
        reset = bool(new_requests and new_requests[2]) or bool(new_attempts and new_attempts[2])
        if self.job_id is not None:
            if reset:
                requests.mine()
                webhooks.mine()
                await self._read_job_entries()
            self._job_requests = _merge(self._job_requests, requests.mine())
            self._job_attempts = _merge(self._job_attempts, webhooks.mine())
        store = self.control.services.store
        views: list[tuple[str, Any]] = [
            ("health", health_view(self.control, now, await store.counts())),
            ("jobs", await jobs_view(self.control.services, now, self.wanted)),
        ]
        if self.job_id is not None:
            job = await job_detail(self.control, self.job_id, now, self._job_requests, self._job_attempts)
            views.append(("job", job))
        for name, data in views:
            frame = sse(name, data)
            if self._last.get(name) != frame:
                self._last[name] = frame
                frames.append(frame)
        return frames


def _batch(rows: list[dict[str, Any]], skipped: int, reset: bool) -> dict[str, Any]:
    return {"reset": reset, "entries": rows, "skipped": skipped}


def _merge(known: list[dict[str, Any]], arrived: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`known` plus the `arrived` entries after its last one (the first flush may repeat some), bounded."""
    last = known[-1]["seq"] if known else 0
    merged = known + [e for e in arrived if e["seq"] > last]
    return merged[-ROWS:]
