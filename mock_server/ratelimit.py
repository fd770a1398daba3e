"""The documented rate limits, per API key, as pure ASGI middleware (off unless ``--rate-limit documented``).

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

from starlette.types import ASGIApp, Receive, Scope, Send

from .answers import send_json
from .clock import Clock
from .faults import THROTTLED, bearer_key
from .selection import POLL_PATH, add_tag, is_api_path


@dataclass(frozen=True, slots=True)
class Window:
    """At most `limit` requests per `seconds`."""

    limit: int
    seconds: float


DOCUMENTED: dict[str, Window] = {"general": Window(1, 3.0), "message": Window(10, 1.0)}


def bucket_of(method: str, path: str) -> str:
    """``message`` for progress polls, ``general`` for every other API call."""
    return "message" if method == "GET" and POLL_PATH.match(path) else "general"


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
            log = self._hits.setdefault((key, bucket), deque())
            while log and log[0] <= now - window.seconds:
                log.popleft()
            if len(log) >= window.limit:
                return max(1, math.ceil(log[0] + window.seconds - now))
            log.append(now)
            return None

    def clear(self) -> None:
        """Forget every window."""
        with self._lock:
            self._hits.clear()


class RateLimitMiddleware:
    """Answer 429 + Retry-After when a key goes over its window; requests without a key pass (auth answers 401)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, enabled: bool = True) -> None:
        self.app = app
        self.limiter = limiter
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = bearer_key(scope)
        wait = self.limiter.hit(key, bucket_of(scope["method"], scope["path"])) if key is not None else None
        if wait is None:
            await self.app(scope, receive, send)
            return
        add_tag(scope, "rate-limited")
        scope.setdefault("state", {})["account"] = key
        await send_json(send, 429, {"message": THROTTLED, "statusCode": 429}, {"Retry-After": str(wait)})
