"""The documented rate limits, per API key (`middleware.ratelimit` applies them with ``--rate-limit documented``).

DOC-SYS: "For general API endpoints, the rate limit is 1 request per 3 seconds. For the progress
checking endpoint: message, the rate limit is 10 requests per second." The status, body and headers
of a refusal are undocumented; the mock answers as the NestJS throttler does (429,
``{"message": "ThrottlerException: Too Many Requests", "statusCode": 429}``) and adds
``Retry-After`` (whole seconds until the window admits the key again).

Windows are sliding logs read from the injected clock, so tests move virtual time instead of
sleeping. A refused request does not use up the window: a client that honours Retry-After succeeds.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from mock_server.domain.clock import Clock


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` requests per `seconds`."""

    limit: int
    seconds: float


MAX_WINDOWS = 10_000  # (key, bucket) windows kept; past this the oldest key's window is forgotten
DOCUMENTED: dict[str, Window] = {"general": Window(1, 3.0), "message": Window(10, 1.0)}


def bucket_of(role: str) -> str:
    """``message`` for progress polls (``x-mock-kind: poll``), ``general`` for every other API call."""
    return "message" if role == "poll" else "general"


def retry_after(oldest: float, window: Window, now: float) -> int:
    """Whole seconds (>= 1) until a full window whose oldest request came at `oldest` admits one more."""
    return max(1, math.ceil(oldest + window.seconds - now))


class RateLimiter:
    """Sliding-log windows per (API key, bucket)."""

    def __init__(self, clock: Clock, windows: dict[str, Window] | None = None) -> None:
        self.clock = clock
        self.windows = dict(DOCUMENTED if windows is None else windows)
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, bucket: str) -> int | None:
        """Record one request now; None if admitted, else the seconds to wait (Retry-After, >= 1)."""
        window = self.windows[bucket]
        now = self.clock.now()
        with self._lock:
            log = self._hits.get((key, bucket))
            if log is None:
                if len(self._hits) >= MAX_WINDOWS:  # bounded: a flood of made-up keys cannot grow it
                    del self._hits[next(iter(self._hits))]
                log = self._hits[(key, bucket)] = deque()
            while log and log[0] <= now - window.seconds:
                log.popleft()
            if len(log) >= window.limit:
                return retry_after(log[0], window, now)
            log.append(now)
            return None

    def clear(self) -> None:
        """Forget every window."""
        with self._lock:
            self._hits.clear()
