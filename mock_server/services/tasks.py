"""Stopping a background task without hanging on it.

Some libraries (redis-py's asyncio connections among them) can swallow a cancellation that lands while they
await I/O; the task then waits again and an ``await task`` after ``cancel()`` never returns. `stop_task`
cancels again until the task ends and gives up after a bound, so a shutdown always finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

log = logging.getLogger("flux_mock")


async def stop_task(task: asyncio.Task[Any] | None, timeout: float = 2.0) -> None:
    """Cancel `task` and wait for it to end, at most `timeout` seconds (cancelling again meanwhile)."""
    if task is None or task.done():
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not task.done() and loop.time() < deadline:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
            await asyncio.wait_for(asyncio.shield(task), 0.1)
    if not task.done():
        log.warning("background task %s did not stop within %g s", task.get_name(), timeout)
