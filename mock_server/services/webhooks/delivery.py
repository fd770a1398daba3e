"""Sending webhooks: background POSTs with bounded concurrency, retries with backoff, and a clean shutdown.

The contract (documented in the README's "Webhooks" table):

- ``POST <url>`` with the Message JSON, ``Content-Type: application/json``; no redirects are followed.
- Headers on every attempt: ``X-Mock-Delivery-Id`` (stable across attempts), ``X-Mock-Attempt`` (1, 2, ...),
  ``X-Mock-Event`` (final or progress), plus ``webhook-id/-timestamp/-signature`` when signing is on.
- A 2xx ends the delivery. A network error, a timeout, a 5xx or a 429 is retried until ``webhook_retries``
  attempts were made; any other status (3xx, 4xx) ends it as failed.
- The wait before attempt n+1 is ``Retry-After`` when the answer carried one, else a capped, jittered
  exponential backoff (see `retry`).
- Waits are on the mock's clock (the `Scheduler`), so tests skip them with ``clock.advance()``.

Deliveries of one job are sent one after another, in event order (a job's progress events never overtake each
other); different jobs are independent. At most ``webhook_concurrency`` attempts are in flight per receiver
(scheme, host, port), so a slow or dead receiver only slows its own deliveries, never the API or other
receivers. Each attempt is bounded by ``webhook_timeout_s`` in total.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mock_server.config.settings import Settings
from mock_server.domain.webhooks.faults import NO_FAULTS, WebhookFaults
from mock_server.domain.webhooks.journal import EventKind, Outcome, WebhookAttempted, WebhookJournal
from mock_server.domain.webhooks.retry import backoff_delay, parse_retry_after
from mock_server.domain.webhooks.signing import Signer
from mock_server.services.outages import Outage
from mock_server.services.scheduler import Scheduler

if TYPE_CHECKING:
    import httpx  # imported on the first delivery: `serve` without webhooks never pays for it

log = logging.getLogger("flux_mock.webhooks")

MAX_PENDING = 10_000  # queued deliveries across all jobs; beyond this a new one is journalled as abandoned
MAX_CONNECTIONS = 256
_RESPONSE_EXCERPT = 2048
USER_AGENT = "flux-mock-webhooks"


@dataclass(slots=True)
class Delivery:
    """One webhook to deliver: a body for one job event, sent until it succeeds or gives up."""

    delivery_id: str
    message_id: str
    event: EventKind
    url: str
    body: bytes
    faults: WebhookFaults = NO_FAULTS
    at: float | None = None  # mock time of the event; a delay fault counts from here
    attempts: int = field(default=0)  # attempts made so far
    takeover: int = 0  # with a shared store: times a worker took it over from one that died holding it
    on_done: Callable[[Delivery], None] | None = field(default=None, compare=False, repr=False)  # it ended

    def record(self) -> dict[str, Any]:
        """JSON-ready form, for a shared outbox."""
        return {
            "delivery_id": self.delivery_id,
            "message_id": self.message_id,
            "event": self.event,
            "url": self.url,
            "body": self.body.decode("utf-8", "replace"),
            "faults": dataclasses.asdict(self.faults),
            "at": self.at,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any], *, takeover: int = 0) -> Delivery:
        """The delivery a `record` describes."""
        return cls(
            record["delivery_id"],
            record["message_id"],
            record["event"],
            record["url"],
            record["body"].encode(),
            WebhookFaults(**record["faults"]),
            at=record["at"],
            takeover=takeover,
        )


@dataclass(frozen=True, slots=True)
class _Result:
    status: int | None
    latency_ms: float
    error: str | None
    retry_after: float | None
    response: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        return self.status is None or self.status == 429 or self.status >= 500


@dataclass(slots=True)
class BlockedHost:
    """A webhook host the mock refused to contact: why, and how many deliveries it blocked."""

    host: str
    reason: str
    deliveries: int

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (camelCase, like the API)."""
        return {"host": self.host, "reason": self.reason, "deliveries": self.deliveries}


def _host_of(url: str) -> str:
    import httpx

    try:
        return httpx.URL(url).host.lower() or url
    except (httpx.InvalidURL, TypeError):
        return url


class Dispatcher:
    """Deliver `Delivery` objects in the background (all methods run on the scheduler's event loop)."""

    def __init__(self, settings: Settings, scheduler: Scheduler, journal: WebhookJournal) -> None:
        self.settings = settings
        self.scheduler = scheduler
        self.journal = journal
        self.signer = Signer(settings.webhook_secret) if settings.webhook_secret else None
        self._queues: dict[str, deque[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._slots: dict[tuple[str, str, int | None], asyncio.Semaphore] = {}
        self._sleeping: set[asyncio.Future[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._closing = False
        self.in_flight = 0  # attempts waiting for an answer right now
        self.abandoned = 0  # deliveries journalled as abandoned so far
        self.failing: dict[str, Outage] = {}  # receiver host -> its outage (one line when it fails, one when back)
        self.blocked_hosts: dict[str, BlockedHost] = {}  # off the allow-list: said once per host
        self.abandoned_deliveries: list[Delivery] = []  # listed (and spooled) at shutdown

    @property
    def pending(self) -> int:
        """Deliveries queued or being delivered."""
        return sum(len(q) for q in self._queues.values()) + len(self._workers)

    # --- intake ----------------------------------------------------------------------------------------------------

    def block(self, delivery: Delivery, reason: str) -> None:
        """Journal a delivery the mock will not send (its host is off the allow-list); say so once per host."""
        host = _host_of(delivery.url)
        fix = (
            f"allow it with --webhook-allow-host {host} (env FLUX_MOCK_WEBHOOK_ALLOW_HOSTS)"
            if "allow-list" in reason
            else "fix the URL"
        )
        self._record(delivery, None, "blocked", error=f"not sent: {reason}; {fix}")
        seen = self.blocked_hosts.get(host)
        if seen is None:
            self.blocked_hosts[host] = BlockedHost(host, reason, 1)
            log.warning(
                "webhooks to %s are not sent: %s; %s. Every blocked delivery is in GET /__mock/webhooks "
                "(outcome blocked).",
                host,
                reason,
                fix,
            )
        else:
            seen.deliveries += 1

    def submit(self, delivery: Delivery) -> None:
        """Queue a delivery behind the same job's earlier ones and make sure a worker sends it."""
        if self._closing or self.pending >= MAX_PENDING:
            reason = "the mock is shutting down" if self._closing else f"more than {MAX_PENDING} deliveries are queued"
            self._record(delivery, None, "abandoned", error=f"not sent: {reason}")
            return
        self._queues.setdefault(delivery.message_id, deque()).append(delivery)
        if delivery.message_id not in self._workers:
            task = asyncio.get_running_loop().create_task(
                self._work(delivery.message_id), name=f"webhook-{delivery.message_id}"
            )
            self._workers[delivery.message_id] = task

    async def _work(self, message_id: str) -> None:
        queue = self._queues[message_id]
        current: Delivery | None = None
        try:
            while queue:
                current = queue.popleft()
                try:
                    await self._deliver(current)
                except Exception as exc:  # the bug class, not one exception: no delivery vanishes unjournalled
                    self._record(
                        current, None, "error", error=f"the mock failed to deliver: {type(exc).__name__}: {exc}"
                    )
                    log.exception("webhook %s for %s failed inside the mock", current.delivery_id, message_id)
                if current.on_done is not None:
                    current.on_done(current)
                current = None
        except asyncio.CancelledError:
            for left in [current, *queue] if current is not None else list(queue):
                self._record(left, None, "abandoned", error="shutdown grace period ended before delivery")
            queue.clear()
            raise
        finally:
            self._workers.pop(message_id, None)
            if not queue:
                self._queues.pop(message_id, None)

    # --- one delivery ----------------------------------------------------------------------------------------------

    async def _deliver(self, d: Delivery) -> None:
        settings = self.settings
        if d.faults.drop:
            self._record(d, None, "dropped", error="dropped by the 'drop' webhook fault")
            return
        if d.faults.delay_s > 0:
            start = d.at if d.at is not None else self.scheduler.clock.now()
            await self._wait_until(start + d.faults.delay_s)
        if settings.webhook_transport == "record":
            d.attempts += 1
            self._record(d, None, "recorded", headers=self._headers(d), error="not sent: webhook_transport=record")
            return
        duplicated = False
        while True:
            d.attempts += 1
            headers = self._headers(d)
            result = await self._attempt(d, headers)
            self._note_host(d, result)
            if result.ok:
                self._record(d, result, "delivered", headers=headers)
                if d.faults.duplicate and not duplicated:
                    duplicated = True  # the same delivery again, as if our side never saw the 2xx
                    continue
                return
            give_up = not result.retryable or d.attempts >= settings.webhook_retries
            if give_up or self._closing:
                error = result.error if give_up else f"{result.error or result.status}; not retried: shutting down"
                self._record(d, result, "failed" if give_up else "abandoned", headers=headers, error=error)
                return
            delay = result.retry_after
            if delay is None:
                delay = backoff_delay(
                    d.attempts,
                    base_s=settings.webhook_backoff_s,
                    max_s=settings.webhook_backoff_max_s,
                    seed=settings.seed,
                    delivery_id=d.delivery_id,
                )
            self._record(d, result, "retrying", headers=headers, retry_in_s=delay)
            await self._wait(delay)

    def _note_host(self, d: Delivery, result: Any) -> None:
        """A receiver host that starts failing is said once, and again once it answers 2xx."""
        host = _host_of(d.url)
        outage = self.failing.get(host)
        if result.ok:
            if outage is not None:
                outage.recovered()
            return
        if outage is None:
            outage = self.failing[host] = Outage(
                log,
                f"webhooks to {host} fail; retrying as planned (every attempt is in GET /__mock/webhooks)",
                f"webhooks to {host} are delivered again",
                unit="attempt",
            )
        outage.failed(str(result.error or f"HTTP {result.status}"))

    def _headers(self, d: Delivery) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Mock-Delivery-Id": d.delivery_id,
            "X-Mock-Attempt": str(d.attempts),
            "X-Mock-Event": d.event,
        }
        if self.signer is not None:
            headers.update(self.signer.headers(d.delivery_id, d.body))
        return headers

    async def _attempt(self, d: Delivery, headers: dict[str, str]) -> _Result:
        import httpx

        url = httpx.URL(d.url)
        slot = self._slots.setdefault(
            (url.scheme, url.host, url.port), asyncio.Semaphore(self.settings.webhook_concurrency)
        )
        async with slot:
            self.in_flight += 1
            started = time.perf_counter()
            try:
                async with asyncio.timeout(self.settings.webhook_timeout_s):
                    return await self._post(url, d.body, headers, started)
            except (TimeoutError, httpx.TimeoutException):
                error = f"timeout: no answer within {self.settings.webhook_timeout_s:g} s"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            finally:
                self.in_flight -= 1
        return _Result(None, (time.perf_counter() - started) * 1000, error, None, None)

    async def _post(self, url: httpx.URL, body: bytes, headers: dict[str, str], started: float) -> _Result:
        client = self._http()
        async with client.stream("POST", url, content=body, headers=headers) as response:
            excerpt = b""
            async for chunk in response.aiter_bytes():
                excerpt += chunk
                if len(excerpt) >= _RESPONSE_EXCERPT:
                    break
        latency = (time.perf_counter() - started) * 1000
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        text = excerpt[:_RESPONSE_EXCERPT].decode("utf-8", "replace")
        return _Result(response.status_code, latency, None, retry_after, text)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            timeout = self.settings.webhook_timeout_s
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=32),
                follow_redirects=False,  # an allowed receiver must not bounce us to a host off the allow-list
                trust_env=False,  # never route through a proxy from the environment
            )
        return self._client

    async def _wait(self, seconds: float) -> None:
        """Wait `seconds` of mock time; returns at once when the dispatcher is closing."""
        await self._wait_until(self.scheduler.clock.now() + seconds)

    async def _wait_until(self, when: float) -> None:
        """Wait until the mock's clock reaches `when`; returns at once when the dispatcher is closing."""
        if self._closing or when <= self.scheduler.clock.now():
            return
        future = self.scheduler.sleep_until(when)
        self._sleeping.add(future)
        try:
            await future
        finally:
            self._sleeping.discard(future)
            future.cancel()

    def _record(
        self,
        d: Delivery,
        result: _Result | None,
        outcome: Outcome,
        *,
        headers: dict[str, str] | None = None,
        error: str | None = None,
        retry_in_s: float | None = None,
    ) -> None:
        if outcome == "abandoned":
            self.abandoned += 1
            self.abandoned_deliveries.append(d)
        self.journal.append(
            WebhookAttempted(
                seq=self.journal.next_seq(),
                at=self.scheduler.clock.now(),
                delivery_id=d.delivery_id,
                message_id=d.message_id,
                event=d.event,
                attempt=d.attempts,
                url=d.url,
                headers=headers or {},
                payload=d.body.decode("utf-8", "replace"),
                status=result.status if result else None,
                latency_ms=result.latency_ms if result else 0.0,
                error=error if error is not None else (result.error if result else None),
                outcome=outcome,
                retry_in_s=retry_in_s,
                faults=d.faults.names,
                response=result.response if result else None,
                takeover=d.takeover,
            )
        )

    # --- shutdown --------------------------------------------------------------------------------------------------

    async def aclose(self, grace_s: float) -> int:
        """Finish pending deliveries within `grace_s` real seconds, journal the rest as abandoned.

        Waits (backoff, delay faults) are cut short so every pending delivery gets one last attempt now;
        one that still needs a retry after it is journalled as abandoned. Returns how many were abandoned.
        """
        self._closing = True
        for future in list(self._sleeping):
            if not future.done():
                future.set_result(None)
        workers = list(self._workers.values())
        abandoned_before = self.abandoned
        if workers:
            _, late = await asyncio.wait(workers, timeout=grace_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.aclose()
            self._client = None
        return self.abandoned - abandoned_before
