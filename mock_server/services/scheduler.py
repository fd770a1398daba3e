"""Timers on the mock's clock: fire callbacks at clock instants, whether real time passes or the clock jumps.

Two things move a `Clock` forward, and timers must follow both:

- real time passing (`SystemClock`): an asyncio task sleeps until the next due instant;
- a jump (`clock.advance()`, a `VirtualClock` in tests or the admin API on a live server): the clock
  calls our listener, which fires everything now due, immediately, with no sleep.

Callbacks always run on the event loop the scheduler is bound to (the server's loop), even when
`advance()` is called from another thread, so they may create tasks and touch loop-bound state. In that
case `advance()` returns once the loop has fired them, so a test thread sees the same order of events as
code on the loop does.
The scheduler binds to a loop when `start()` runs (the app's lifespan) or, failing that, lazily to
the running loop of the first `call_at()` (in-process tests without a lifespan).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from mock_server.domain.clock import Clock, VirtualClock

log = logging.getLogger("flux_mock.scheduler")

Callback = Callable[[], None]
JUMP_WAIT_S = 5.0  # longest advance() waits for a busy loop to fire what the jump made due


@dataclass(order=True, slots=True)
class Timer:
    """A pending callback; `cancel()` stops it from firing."""

    when: float
    seq: int
    callback: Callback = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        """Do not fire this timer (it is dropped lazily from the heap)."""
        self.cancelled = True


class Scheduler:
    """Fire callbacks at instants of the injected clock.

    Example:
        scheduler = Scheduler(clock)
        scheduler.call_at(clock.now() + 5, lambda: print("5 s later, or after clock.advance(5)"))
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._wake: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None
        clock.subscribe(self._on_clock)

    # --- binding -------------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind to the running loop and start the real-time sleeper (call from the app's lifespan)."""
        self._bind(asyncio.get_running_loop())

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is loop and not loop.is_closed():
            return
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._runner = loop.create_task(self._run(), name="flux-mock-scheduler")
        loop.call_soon(self.fire_due)  # timers added before binding may already be due

    def _current_loop(self) -> asyncio.AbstractEventLoop | None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            return loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            return None
        self._bind(running)
        return running

    async def aclose(self) -> None:
        """Stop the real-time sleeper; pending timers stay but no longer fire by themselves."""
        runner, self._runner = self._runner, None
        if runner is not None and not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        self._loop = None

    # --- timers --------------------------------------------------------------------------------------------------

    def call_at(self, when: float, callback: Callback) -> Timer:
        """Run `callback()` on the loop once the clock reaches `when` (epoch seconds on the mock's clock)."""
        timer = Timer(when, next(self._seq), callback)
        with self._lock:
            heapq.heappush(self._heap, timer)
        self._poke()
        return timer

    def call_later(self, seconds: float, callback: Callback) -> Timer:
        """Run `callback()` after `seconds` of the mock's time."""
        return self.call_at(self.clock.now() + seconds, callback)

    def sleep(self, seconds: float) -> asyncio.Future[None]:
        """A future resolved after `seconds` of the mock's time (virtual in tests); cancel it to drop the timer."""
        return self.sleep_until(self.clock.now() + seconds)

    def sleep_until(self, when: float) -> asyncio.Future[None]:
        """A future resolved once the mock's clock reaches `when`; cancel it to drop the timer."""
        loop = asyncio.get_running_loop()
        self._current_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_at(when, wake)
        future.add_done_callback(lambda _: timer.cancel())
        return future

    def next_due(self) -> float | None:
        """The instant of the earliest pending timer, or None."""
        with self._lock:
            self._drop_cancelled()
            return self._heap[0].when if self._heap else None

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for t in self._heap if not t.cancelled)

    def fire_due(self) -> int:
        """Fire every timer due at the clock's now, earliest first; returns how many fired.

        Runs on the bound loop. A callback may schedule new timers; those already due fire in the same pass.
        """
        fired = 0
        while True:
            now = self.clock.now()
            with self._lock:
                self._drop_cancelled()
                if not self._heap or self._heap[0].when > now:
                    break
                timer = heapq.heappop(self._heap)
            fired += 1
            try:
                timer.callback()
            except Exception:  # a broken callback must not stop the other timers
                log.exception("scheduler callback %r failed", timer.callback)
        return fired

    def _drop_cancelled(self) -> None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)

    # --- waking --------------------------------------------------------------------------------------------------

    def _on_clock(self, now: float) -> None:
        # Called by clock.advance() in whatever thread advanced it.
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if threading.get_ident() == self._loop_thread:
            self.fire_due()
            self._poke()
            return
        # Another thread (a sync test driving a live server): hand the firing to the loop and wait for it, so
        # that when advance() returns every timer due by then has fired, as it would in the loop's own thread.
        fired = threading.Event()

        def jump() -> None:
            try:
                self._after_jump()
            finally:
                fired.set()

        loop.call_soon_threadsafe(jump)
        if loop.is_running():
            fired.wait(JUMP_WAIT_S)

    def _after_jump(self) -> None:
        self.fire_due()
        if self._wake is not None:
            self._wake.set()

    def _poke(self) -> None:
        """Tell the sleeper that the earliest timer changed (from any thread)."""
        loop = self._current_loop()
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            if self._wake is not None:
                self._wake.set()
        else:
            loop.call_soon_threadsafe(self._after_jump)

    async def _run(self) -> None:
        """Sleep until the next due instant of real time, fire, repeat."""
        assert self._wake is not None
        wake = self._wake
        while True:
            self.fire_due()
            wake.clear()
            due = self.next_due()
            # A VirtualClock only moves by advance(), which wakes us; sleeping on real time would be pointless.
            if due is None or isinstance(self.clock, VirtualClock) or not math.isfinite(due):
                await wake.wait()
                continue
            # Cap the nap so a frozen-then-unfrozen SystemClock (which notifies nobody) is noticed within a second.
            delay = min(max(0.0, due - self.clock.now()), 1.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)
