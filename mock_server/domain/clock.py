"""The only source of "now" in the mock.

Time is injected so the job lifecycle is a pure function of (job, now) and tests move
time forward instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

Listener = Callable[[float], None]


@runtime_checkable
class Clock(Protocol):
    """What the mock needs from a clock: epoch seconds, and a way to jump ahead."""

    def now(self) -> float:
        """Current time as Unix epoch seconds."""
        ...

    def advance(self, seconds: float) -> float:
        """Move time forward by `seconds` and return the new now."""
        ...

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(now)` after every jump, so timers can fire without sleeping."""
        ...

    def state(self) -> tuple[float, float | None]:
        """(offset, the wall-clock instant time froze at or None): what another process needs to share this clock."""
        ...

    def restore(self, offset: float, frozen_at: float | None) -> None:
        """Take another process's clock state; listeners hear of a jump forward."""
        ...


class _Notifier:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def _notify(self, now: float) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(now)


class SystemClock(_Notifier):
    """Wall-clock time, plus an offset that `advance()` grows and an optional freeze.

    A live server uses this: real time passes, and QA can still skip ahead
    (`POST /__mock/clock/advance`) or freeze time.
    """

    def __init__(self) -> None:
        super().__init__()
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """Current time as Unix epoch seconds."""
        base = self._frozen_at if self._frozen_at is not None else time.time()
        return base + self._offset

    def advance(self, seconds: float) -> float:
        """Skip `seconds` ahead (never back)."""
        if seconds < 0:
            raise ValueError(f"seconds must not be negative (got {seconds})")
        self._offset += seconds
        now = self.now()
        self._notify(now)
        return now

    def freeze(self) -> None:
        """Stop time where it is until `unfreeze()`."""
        if self._frozen_at is None:
            self._frozen_at = time.time()

    def unfreeze(self) -> None:
        """Let time run again from where it was frozen."""
        if self._frozen_at is not None:
            self._offset -= time.time() - self._frozen_at
            self._frozen_at = None

    @property
    def frozen(self) -> bool:
        """Whether time is frozen."""
        return self._frozen_at is not None

    @property
    def offset(self) -> float:
        """Seconds skipped ahead of wall-clock time by `advance()`."""
        return self._offset

    def state(self) -> tuple[float, float | None]:
        """(offset, the wall-clock instant time froze at or None): what another process needs to share this clock."""
        return self._offset, self._frozen_at

    def restore(self, offset: float, frozen_at: float | None) -> None:
        """Take another process's clock state; listeners hear of a jump forward, as from `advance`."""
        before = self.now()
        self._offset, self._frozen_at = offset, frozen_at
        now = self.now()
        if now > before:
            self._notify(now)

    def reset(self) -> None:
        """Back to wall-clock time: no offset, not frozen (listeners stay subscribed)."""
        self._offset = 0.0
        self._frozen_at = None


class VirtualClock(_Notifier):
    """A clock that only moves when told to: the clock for tests.

    Example:
        clock = VirtualClock(start=1_700_000_000.0)
        clock.advance(5)
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        super().__init__()
        self._start = float(start)
        self._now = float(start)

    def now(self) -> float:
        """Current virtual time."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move virtual time forward and notify subscribers."""
        if seconds < 0:
            raise ValueError(f"seconds must not be negative (got {seconds})")
        self._now += seconds
        self._notify(self._now)
        return self._now

    def state(self) -> tuple[float, float | None]:
        """(seconds advanced, None): see `SystemClock.state`."""
        return self.offset, None

    def restore(self, offset: float, frozen_at: float | None) -> None:
        """Take another process's offset; listeners hear of a jump forward."""
        now = self._start + offset
        moved, self._now = now > self._now, now
        if moved:
            self._notify(now)

    def reset(self) -> None:
        """Back to the start time (listeners stay subscribed)."""
        self._now = self._start

    @property
    def offset(self) -> float:
        """Seconds advanced since the start."""
        return self._now - self._start

    frozen = True
