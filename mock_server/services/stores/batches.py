"""Batches: calls that arrive together share one round trip to the store (a group commit).

A caller queues its item and waits; the first item of a turn starts a sender that lets the rest of this
event-loop turn queue theirs, sends them all in one call, and, while that call is in flight, lets the next
ones gather. An idle server pays one loop turn per call; a busy one pays one round trip per batch, not per
request. A failed call fails every item of its batch with the same error (each request answers it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741  # an item queued
R = TypeVar("R")  # its result

LIMIT = 256  # items per call at most: one huge script call would hold Redis (single-threaded) for too long


class Batches(Generic[I, R]):
    """Queue items; `send` gets them in batches (arrival order) and returns one result per item."""

    def __init__(self, send: Callable[[list[I]], Awaitable[Sequence[R]]], *, limit: int = LIMIT) -> None:
        self.send = send
        self.limit = limit
        self._queue: list[tuple[I, asyncio.Future[R]]] = []
        self._sender: asyncio.Task[None] | None = None
        self.calls = 0  # how many calls were made (tests and benchmarks read it)

    async def __call__(self, item: I) -> R:
        """Queue `item` and wait for its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((item, future))
        if self._sender is None:
            self._sender = loop.create_task(self._run(), name="flux-mock-batch")
        return await future

    async def _run(self) -> None:
        batch: list[tuple[I, asyncio.Future[R]]] = []
        try:
            await asyncio.sleep(0)  # the rest of this turn's items join the first batch
            while self._queue:
                batch, self._queue = self._queue[: self.limit], self._queue[self.limit :]
                self.calls += 1
                try:
                    results = await self.send([item for item, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():  # its request may have been cancelled (the client went away)
                        future.set_result(result)
        except asyncio.CancelledError:  # shutting down: nobody is left to send the rest
            for _, future in [*batch, *self._queue]:
                future.cancel()
            self._queue.clear()
            raise
        finally:
            self._sender = None
