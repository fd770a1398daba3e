"""HTTP calls of the lifecycle checks: pacing (real or virtual time), 429 handling, cost counting, curl lines."""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from contracts.core.reporting import Cost
from mock_server import Clock

AUTH_HEADER = '"Authorization: Bearer $IMAGINEPRO_API_KEY"'
_MAX_RETRIES = 5


class Timer(Protocol):
    """Where the lifecycle checks get "now" and how they wait between polls."""

    def now(self) -> float:
        """Seconds on some monotonic scale."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""
        ...


class RealTimer:
    """Wall-clock waiting (what ``flux-mock check`` uses)."""

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        await asyncio.sleep(seconds)


class VirtualTimer:
    """Waiting that moves an in-process server's `Clock` forward instead of sleeping.

    Example:
        clock = VirtualClock()
        report = run_check(CheckOptions(...), app=create_app(settings, clock=clock), timer=VirtualTimer(clock))
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def now(self) -> float:
        """The clock's now."""
        return self.clock.now()

    async def sleep(self, seconds: float) -> None:
        """Advance the clock to `seconds` from now, then let other tasks run.

        Concurrent sleepers share the clock: one that finds it already moved far enough by the
        others does not move it again, so N jobs polling every second still see 1 s between polls.
        """
        target = self.clock.now() + seconds
        await asyncio.sleep(0)  # let the other tasks that wait now start their waits first
        ahead = target - self.clock.now()
        if ahead > 0:
            self.clock.advance(ahead)
        await asyncio.sleep(0)


def curl(method: str, url: str, body: Any = None, *, auth: bool = True) -> str:
    """A copy-paste curl command; the API key is read from $IMAGINEPRO_API_KEY, never printed."""
    parts = ["curl", "-sS", "-X", method, shlex.quote(url)]
    if auth:
        parts += ["-H", AUTH_HEADER]
    if body is not None:
        parts += ["-H", "'Content-Type: application/json'", "-d", shlex.quote(json.dumps(body, ensure_ascii=False))]
    return " ".join(parts)


@dataclass
class Caller:
    """Sends the lifecycle requests and counts them.

    Attributes:
        api: client with the Bearer key and the server's base URL.
        anonymous: client without credentials (image downloads, the 401 probe).
        base_url: the server's base URL, for curl lines.
        timer: how to wait.
        cost: where requests are counted.
    """

    api: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    base_url: str
    timer: Timer
    cost: Cost

    async def send(
        self, method: str, path: str, *, json_body: Any = None, auth: bool = True, key: str | None = None
    ) -> httpx.Response:
        """Send one request, waiting out 429 answers (Retry-After) a few times before giving the 429 back.

        `auth` False sends no credentials; `key` sends that Bearer key instead of the run's (a wrong-key probe).
        """
        client = self.api if auth and key is None else self.anonymous
        headers = {"Authorization": f"Bearer {key}"} if key is not None else None
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        response = None
        for _ in range(_MAX_RETRIES + 1):
            self.cost.add(requests=1)
            response = await client.request(method, url, json=json_body, headers=headers)
            if response.status_code != 429:
                return response
            await self.timer.sleep(_retry_after(response))
        assert response is not None
        return response

    async def peek(self, url: str) -> tuple[int, str]:
        """Status and Content-Type of a download, without reading the body (images can be large)."""
        self.cost.add(requests=1)
        async with self.anonymous.stream("GET", url) as response:
            return response.status_code, response.headers.get("content-type", "")

    async def head_bytes(self, url: str, limit: int = 4096) -> tuple[int, bytes]:
        """Status and the first `limit` bytes of a download (enough for a PNG's header and first chunks)."""
        self.cost.add(requests=1)
        async with self.anonymous.stream("GET", url) as response:
            data = b""
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) >= limit:
                    break
            return response.status_code, data[:limit]

    def curl(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> str:
        """The curl line for a request this caller would send."""
        return curl(method, self.base_url + path, body, auth=auth)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "1")
    try:
        return min(max(float(value), 0.1), 60.0)
    except ValueError:
        return 1.0


def json_or_none(response: httpx.Response) -> Any:
    """The parsed JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None
