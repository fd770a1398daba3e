"""How many of the run's jobs are outstanding at once, and which goes next: the follow-ups before the rest.

A server with a per-key queue runs its jobs first come first served. Created all at once, the run's dozen
independent jobs would queue ahead of the chain that leads to the next stage (a grid's buttons, then the upscale's
buttons), and the run would last the whole queue plus the whole chain. Where the server says how many jobs a key
runs at once (`queue.concurrency`), the run keeps at most twice that many created and not yet seen final: the
server always has the next jobs queued (its slots never wait for a poll), and a follow-up created the moment its
target is DONE waits behind a few jobs only. Every job still runs; only the order the server receives them
changes. Without a known concurrency, nothing waits (the old order).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator

FOLLOW_UP = 0  # a job made from another job's result (a button, an extend, an upscale): the critical path
INDEPENDENT = 1  # a job that needs nothing: fills the slots meanwhile


class Gate:
    """Lets at most `limit` jobs be outstanding; waiting ones enter by priority, then in arrival order."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.outstanding = 0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @contextlib.asynccontextmanager
    async def held(self, priority: int) -> AsyncIterator[None]:
        """Hold one place while the job is created and followed to its end."""
        await self._enter(priority)
        try:
            yield
        finally:
            self._leave()

    async def _enter(self, priority: int) -> None:
        if self.limit is None:
            return
        if self.outstanding < self.limit and not self._waiting:
            self.outstanding += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), turn))
        try:
            await turn  # `_leave` hands its place over: `outstanding` already counts this job
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._leave()  # handed a place just as it was cancelled: give it on
            raise

    def _leave(self) -> None:
        if self.limit is None:
            return
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self.outstanding -= 1
