"""Sending deliveries to a receiver, and what came back: `Sent`, `Answer`, `Exchange`, and the posters.

A receiver is a URL (httpx over a socket) or an app in this process: an ASGI app (httpx's ``ASGITransport``) or
a WSGI app (httpx's ``WSGITransport``, on worker threads so a burst is concurrent). Every delivery is a
``POST`` with the mock's headers; with a secret, each attempt is signed when it is sent, by the mock's own
`WebhookSigner`, exactly as ``flux-mock serve --webhook-secret`` signs. Redirects are never followed and no proxy
from the environment is used, as for the mock's own deliveries.
"""

from __future__ import annotations

import asyncio
import inspect
import shlex
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

    from contracts.receiver.deliveries import Delivery

APP_ORIGIN = "http://receiver.invalid"  # an app in this process has no socket; .invalid never resolves
_EXCERPT = 300
_MAX_READ = 64 * 1024


@dataclass(frozen=True, slots=True)
class Sent:
    """One request as it went out: replayable with `curl`."""

    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """A header's value (case-insensitive), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @property
    def curl(self) -> str:
        """A copy-paste curl command sending the same bytes (a signature's timestamp is good for 5 minutes)."""
        parts = ["curl", "-sS", "-i", "-X", "POST", shlex.quote(self.url)]
        for name, value in self.headers:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        parts += ["--data-binary", shlex.quote(self.body.decode("utf-8", "replace"))]
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back: a status (None when there was none) with an excerpt of the body, or what went wrong."""

    status: int | None
    latency_ms: float
    body: str = ""
    error: str | None = None
    timed_out: bool = False

    @property
    def label(self) -> str:
        """A short name for tables: the status, ``timeout`` or ``no answer``."""
        if self.status is not None:
            return str(self.status)
        return "timeout" if self.timed_out else "no answer"

    def describe(self) -> str:
        """One line: status and body excerpt, or the error, with the time it took."""
        took = f"{self.latency_ms:.0f} ms"
        if self.status is None:
            return f"{self.error} (after {took})"
        excerpt = f": {self.body}" if self.body else " (empty body)"
        return f"{self.status} in {took}{excerpt}"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One delivery attempt: what it was, what was sent and what came back."""

    what: str  # e.g. "final DONE, attempt 2"
    sent: Sent
    answer: Answer


@dataclass(slots=True)
class Signing:
    """How deliveries are signed: with the mock's signer when there is a secret, not at all otherwise."""

    secret: str | None
    now: Callable[[], float] = field(default=time.time)

    def headers(self, delivery: Delivery, attempt: int = 1, *, timestamp: float | None = None) -> dict[str, str]:
        """The delivery's headers for one attempt, signed (at `timestamp`, default now) when there is a secret."""
        headers = dict(delivery.headers)
        headers["X-Mock-Attempt"] = str(attempt)
        if self.secret is not None:
            headers.update(self.sign(self.secret, delivery.delivery_id, delivery.body, timestamp))
        return headers

    def sign(self, secret: str, delivery_id: str, body: bytes, timestamp: float | None = None) -> dict[str, str]:
        """The three Standard Webhooks headers, as `flux-mock serve --webhook-secret` sends them."""
        from mock_server import WebhookSigner

        return WebhookSigner(secret).headers(delivery_id, body, self.now() if timestamp is None else timestamp)


class Unreachable(Exception):
    """Raised when a receiver given by URL refuses the connection (it is not running there)."""


class Poster(Protocol):
    """Sends one request to the receiver and waits at most `timeout` seconds for the whole answer."""

    url: str

    async def post(self, sent: Sent, timeout: float) -> Answer: ...

    async def aclose(self) -> None: ...


def is_asgi(app: Any) -> bool:
    """Whether `app` looks like an ASGI app (an async callable), not a WSGI one."""
    if inspect.iscoroutinefunction(app):
        return True
    call = inspect.getattr_static(type(app), "__call__", None)  # an instance's own (a Starlette app's is async)
    return inspect.iscoroutinefunction(call)


def _answer(response: httpx.Response, started: float) -> Answer:
    text = response.content[:_MAX_READ].decode("utf-8", "replace").strip().replace("\n", " ")
    body = text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."
    return Answer(response.status_code, (time.perf_counter() - started) * 1000, body)


def _failed(exc: BaseException, started: float, timeout: float) -> Answer:
    import httpx

    took = (time.perf_counter() - started) * 1000
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return Answer(None, took, error=f"no answer within {timeout:g} s", timed_out=True)
    text = str(exc) or type(exc).__name__
    return Answer(None, took, error=f"no answer: {type(exc).__name__}: {text}")


class HttpPoster:
    """Posts with an httpx.AsyncClient: over a socket to a URL, or into an ASGI app."""

    def __init__(self, url: str, client: httpx.AsyncClient, *, over_socket: bool) -> None:
        self.url = url
        self.client = client
        self.over_socket = over_socket

    async def post(self, sent: Sent, timeout: float) -> Answer:
        import httpx

        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                response = await self.client.post(
                    sent.url, content=sent.body, headers=dict(sent.headers), timeout=timeout
                )
        except httpx.ConnectError as exc:
            if self.over_socket:
                raise Unreachable(f"{type(exc).__name__}: {exc}") from None
            return _failed(exc, started, timeout)
        except (TimeoutError, httpx.HTTPError) as exc:
            return _failed(exc, started, timeout)
        return _answer(response, started)

    async def aclose(self) -> None:
        await self.client.aclose()


class WsgiPoster:
    """Posts into a WSGI app on worker threads (one per concurrent delivery), each answer awaited `timeout` s.

    A thread stuck in an app that never returns is left behind (threads cannot be stopped); the run goes on.
    """

    def __init__(self, url: str, client: httpx.Client, workers: int) -> None:
        self.url = url
        self.client = client
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify-receiver-wsgi")

    async def post(self, sent: Sent, timeout: float) -> Answer:
        started = time.perf_counter()
        loop = asyncio.get_running_loop()

        def call() -> httpx.Response:
            return self.client.post(sent.url, content=sent.body, headers=dict(sent.headers))

        try:
            async with asyncio.timeout(timeout):
                response = await loop.run_in_executor(self._pool, call)
        except TimeoutError as exc:
            return _failed(exc, started, timeout)
        except Exception as exc:  # the app raised: a WSGI server answers 500
            took = (time.perf_counter() - started) * 1000
            return Answer(500, took, f"(the app raised {type(exc).__name__}: {exc}; a WSGI server answers 500)")
        return _answer(response, started)

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()


def poster(target: str | Any, *, path: str = "/", concurrency: int = 100) -> Poster:
    """A poster for `target`: a URL, or an ASGI or WSGI app in this process (posted to at `path`)."""
    import httpx

    limits = httpx.Limits(max_connections=max(100, concurrency), max_keepalive_connections=32)
    if isinstance(target, str):
        client = httpx.AsyncClient(follow_redirects=False, trust_env=False, limits=limits)
        return HttpPoster(target, client, over_socket=True)
    url = APP_ORIGIN + (path if path.startswith("/") else "/" + path)
    if is_asgi(target):
        transport = httpx.ASGITransport(app=target, raise_app_exceptions=False)  # an exception is a 500, as served
        return HttpPoster(url, httpx.AsyncClient(transport=transport, follow_redirects=False), over_socket=False)
    if callable(target):
        wsgi = httpx.WSGITransport(app=target, raise_app_exceptions=False)
        return WsgiPoster(url, httpx.Client(transport=wsgi, follow_redirects=False), max(4, concurrency))
    raise TypeError(f"a receiver is a URL or an ASGI or WSGI app; got {type(target).__name__}")


def headers_without(headers: Mapping[str, str], name: str) -> dict[str, str]:
    """`headers` less one (case-insensitive)."""
    return {k: v for k, v in headers.items() if k.lower() != name.lower()}
