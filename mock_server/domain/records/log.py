"""`BoundedLog`: the one append-only, size-bounded log behind the request and webhook journals.

Writers append from the event loop (or any thread); readers copy, filter, block until enough entries
are there (`wait_for`), await them (`await_for`), or follow new entries as they come (`subscribe`, what
a live dashboard streams from).

The hot path is one deque append: entries may be stored raw and turned into records only when read
(`materialise`), and waiters are woken only when someone waits.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, Protocol, TypeVar


class Sequenced(Protocol):
    """An entry with a sequence number (1, 2, ... in order of arrival)."""

    @property
    def seq(self) -> int: ...


T = TypeVar("T", bound=Sequenced)
Where = Callable[[T], bool] | None


class Subscription(Generic[T]):
    """New entries of one log, as an async iterator; bounded, so a slow reader loses the oldest (`dropped`).

    Use it as a context manager (``with log.subscribe() as new: async for entry in new: ...``) so it is
    closed when the reader goes away.
    """

    def __init__(self, log: BoundedLog[T], maxsize: int) -> None:
        self._log = log
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self._thread = threading.get_ident()
        self.dropped = 0

    def _offer(self, item: Any) -> None:
        if threading.get_ident() == self._thread:
            self._put(item)
        else:
            self._loop.call_soon_threadsafe(self._put, item)

    def _put(self, item: Any) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    async def get(self, timeout: float | None = None) -> T:
        """The next new entry; TimeoutError after `timeout` seconds."""
        item = await asyncio.wait_for(self._queue.get(), timeout)
        return self._log.materialise(item)

    def close(self) -> None:
        """Stop receiving entries."""
        self._log._unsubscribe(self)

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        return await self.get()

    def __enter__(self) -> Subscription[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BoundedLog(Generic[T]):
    """Append-only log of at most `maxlen` entries (the oldest drop out first).

    Args:
        maxlen: entries kept.
        materialise: turns a stored item into its record when read (default: items are records already).
    """

    def __init__(self, maxlen: int = 10_000, materialise: Callable[[Any], T] | None = None) -> None:
        self._entries: deque[Any] = deque(maxlen=maxlen)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._waiting = 0  # blocking waiters; appends take the lock only when there are some
        self._subscribers: list[Subscription[T]] = []
        self._materialise = materialise
        self.sink: Callable[[Any], None] | None = None  # also given every appended item (a shared store's mirror)

    def materialise(self, item: Any) -> T:
        """The record for one stored item."""
        return item if self._materialise is None else self._materialise(item)

    def next_seq(self) -> int:
        """Reserve the next sequence number (no lock: ``next`` on a count is atomic under the GIL)."""
        return next(self._seq)

    def append(self, item: Any) -> None:
        """Store one entry (a record, or a raw item `materialise` understands) and wake whoever waits."""
        self._entries.append(item)
        if self._waiting:
            with self._changed:
                self._changed.notify_all()
        for subscriber in self._subscribers:
            subscriber._offer(item)
        if self.sink is not None:
            self.sink(item)

    def entries(self, where: Where[T] = None, *, since: int = 0) -> list[T]:
        """Entries after sequence number `since` that match `where`, oldest first."""
        with self._lock:
            items = list(self._entries)
        records = [self.materialise(item) for item in items]
        return [e for e in records if e.seq > since and (where is None or where(e))]

    def tail(self, count: int) -> list[T]:
        """The newest `count` entries, oldest first; only those are materialised, so it is cheap on a full log."""
        with self._lock:
            items = list(itertools.islice(reversed(self._entries), count))
        return [self.materialise(item) for item in reversed(items)]

    def count(self, where: Where[T] = None) -> int:
        """How many entries match `where`."""
        return len(self.entries(where))

    def wait_for(self, count: int, where: Where[T] = None, *, timeout: float = 5.0) -> list[T]:
        """Block until at least `count` entries match `where`; TimeoutError (saying how many did) after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._changed:
            self._waiting += 1
            try:
                while True:
                    found = [e for e in map(self.materialise, self._entries) if where is None or where(e)]
                    left = deadline - time.monotonic()
                    if len(found) >= count or left <= 0:
                        break
                    self._changed.wait(left)
            finally:
                self._waiting -= 1
        if len(found) < count:
            raise TimeoutError(f"{len(found)} matching entries within {timeout} s; expected {count}")
        return found

    async def await_for(self, count: int, where: Where[T] = None, *, timeout: float = 5.0) -> list[T]:
        """`wait_for` without blocking the event loop."""
        deadline = time.monotonic() + timeout
        with self.subscribe() as subscription:
            while True:
                found = self.entries(where)
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    break
                try:
                    await subscription.get(left)
                except TimeoutError:
                    continue  # the loop re-reads and reports
        if len(found) < count:
            raise TimeoutError(f"{len(found)} matching entries within {timeout} s; expected {count}")
        return found

    def subscribe(self, maxsize: int = 1000) -> Subscription[T]:
        """Follow entries appended from now on (call from a running event loop)."""
        subscription = Subscription(self, maxsize)
        with self._lock:
            self._subscribers = [*self._subscribers, subscription]  # copy: append() iterates without the lock
        return subscription

    def _unsubscribe(self, subscription: Subscription[T]) -> None:
        with self._lock:
            self._subscribers = [s for s in self._subscribers if s is not subscription]

    def clear(self) -> None:
        """Drop every entry and restart numbering."""
        with self._lock:
            self._entries.clear()
            self._seq = itertools.count(1)

    def __iter__(self) -> Iterator[T]:
        return iter(self.entries())

    def __len__(self) -> int:
        return len(self._entries)
