"""The webhook service: turns job state changes into deliveries.

It listens to the job store (new jobs, admin-forced states), computes when each job's visible state
changes (`events.next_change`), and at those instants of the mock's clock renders the Message exactly as
GET progress would at that instant and hands it to the `Dispatcher`.

Which events are sent:

- ``webhook_events=final`` (default): one webhook when the job reaches DONE or FAIL;
- ``webhook_events=progress``: also one on every later status or progress change (not on creation).

Where: the job's ``webhookOverride``, else ``webhook_url`` (the stand-in for "the default webhook
configured in your account"); jobs with neither send nothing and cost nothing.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mock_server.config.settings import Settings
from mock_server.contract.problems import Violation, from_violations
from mock_server.domain.clock import Clock
from mock_server.domain.jobs import Job
from mock_server.domain.lifecycle import JobStatus
from mock_server.domain.webhooks.events import State, final_at, next_change, state_at
from mock_server.domain.webhooks.faults import HEADER, WebhookFaults, corrupt, parse_faults
from mock_server.domain.webhooks.journal import EventKind, WebhookJournal
from mock_server.domain.webhooks.spool import report_undelivered
from mock_server.domain.webhooks.targets import RULE, refusal, target_host
from mock_server.services.scheduler import Scheduler
from mock_server.services.webhooks.delivery import Delivery, Dispatcher
from mock_server.services.webhooks.outbox import OutboxPump, Planner, SharedOutbox

Renderer = Callable[[Job, float], dict[str, Any]]  # orjson serialises dicts, exactly as GET does
_ID_NAMESPACE = uuid.UUID("6f1d3c1e-8f2a-4a57-9b36-2f4f3d7a9c10")


@dataclass(slots=True)
class _Tracked:
    """What the service remembers about one job with a webhook target."""

    job: Job
    url: str
    faults: WebhookFaults
    progress_events: bool
    last: State | None = None
    final_sent: bool = False
    generation: int = 0
    events: int = 0
    held: list[tuple[EventKind, bytes]] = field(default_factory=list)
    blocked: str | None = None  # why the target is never contacted (its host is off the allow-list)
    planner: Planner | None = None  # with a shared outbox: the job's events are planned ahead, at once
    epoch: str = ""  # part of the delivery ids of a re-planned (forced) job, so they differ from the first plan's


class WebhookService:
    """Everything webhook-related one server owns: the journal, the dispatcher and the per-job trackers."""

    def __init__(self, settings: Settings, clock: Clock, scheduler: Scheduler, render: Renderer) -> None:
        self.settings = settings
        self.clock = clock
        self.scheduler = scheduler
        self.render = render
        self.journal = WebhookJournal(settings.journal_size)
        self.dispatcher = Dispatcher(settings, scheduler, self.journal)
        self.default_faults = parse_faults(settings.webhook_fault)
        self._tracked: dict[str, _Tracked] = {}
        self._lock = threading.Lock()
        self.outbox: SharedOutbox | None = None  # set by a shared store: deliveries go through it
        self.pump: OutboxPump | None = None

    def use_outbox(self, outbox: SharedOutbox) -> None:
        """Plan every job's deliveries ahead into a shared outbox, and send what this worker claims from it."""
        self.outbox = outbox
        self.pump = OutboxPump(outbox, self.dispatcher, self.clock)

    # --- create time -------------------------------------------------------------------------------------------

    def check_request(self, webhook_override: str | None, fault_header: str | None) -> str | None:
        """Refuse a create request whose webhook cannot be honoured (400); return the job's fault text.

        Raises HttpError 400 naming the rule when the ``X-Mock-Webhook`` header names an unknown fault, or,
        with ``--webhook-off-list refuse``, when `webhook_override` is off the allow-list. By default such a
        job is accepted, as the real API would, and its deliveries are journalled as blocked.
        """
        allow = self.settings.webhook_allow_hosts
        if webhook_override is not None and self.settings.webhook_off_list == "refuse":
            reason = refusal(webhook_override, allow)
            if reason is not None:
                raise from_violations([_refused(webhook_override, reason, allow)])
        if fault_header is None:
            return None
        try:
            parse_faults(fault_header)
        except ValueError as exc:
            raise from_violations([_bad_fault(fault_header, str(exc))]) from None
        return fault_header.strip()

    # --- job tracking ------------------------------------------------------------------------------------------

    def track(self, job: Job) -> None:
        """JobStore listener: a job was created or its state was forced; plan its webhook events."""
        url = job.webhook_url or self.settings.webhook_url
        if not url:
            return
        if self.outbox is not None:
            self._plan_ahead(job, url, self.outbox)
            return
        with self._lock:
            tracked = self._tracked.get(job.message_id)
            initial = tracked is None
            if tracked is None:
                text = job.webhook_fault
                faults = parse_faults(text) if text is not None else self.default_faults
                progress = self.settings.webhook_events == "progress" or faults.out_of_order
                tracked = _Tracked(job, url, faults, progress, blocked=_blocked(url, self.settings.webhook_allow_hosts))
                self._tracked[job.message_id] = tracked
            tracked.generation += 1
            generation = tracked.generation
        at = job.plan.created_at if initial else self.clock.now()
        self._at(tracked, at, generation, initial=initial)

    def _plan_ahead(self, job: Job, url: str, outbox: SharedOutbox) -> None:
        """Plan the job's whole webhook future now, into the outbox (kept nowhere in this process)."""
        text = job.webhook_fault
        faults = parse_faults(text) if text is not None else self.default_faults
        progress = self.settings.webhook_events == "progress" or faults.out_of_order
        blocked = _blocked(url, self.settings.webhook_allow_hosts)
        tr = _Tracked(job, url, faults, progress, blocked=blocked, planner=Planner(), generation=1)
        if job.version == 0:
            at, initial = job.plan.created_at, True
        else:  # forced or released: what fell due before now stays planned; the rest is planned anew from now
            at, initial = self.clock.now(), False
            outbox.cancel_after(job.message_id, at)
            tr.epoch, tr.last = f"v{job.version}:", state_at(job.plan, at)
            ends = final_at(job.plan)
            tr.final_sent = ends is not None and ends <= at
        self._evaluate(tr, at, 1, initial)
        tr.planner.run()  # type: ignore[union-attr]

    def _at(self, tr: _Tracked, at: float, generation: int, *, initial: bool = False) -> None:
        """Evaluate the job at instant `at` once the mock's clock gets there."""
        if tr.planner is not None:
            tr.planner.call_at(at, lambda: self._evaluate(tr, at, generation, initial))
            return
        self.scheduler.call_at(at, lambda: self._evaluate(tr, at, generation, initial))

    def _evaluate(self, tr: _Tracked, at: float, generation: int, initial: bool = False) -> None:
        if generation != tr.generation:
            return  # superseded by a forced state
        job = tr.job
        snap = job.snapshot(at)
        state: State = (snap.status, snap.progress)
        changed = initial or state != tr.last
        tr.last = state
        if changed and snap.status.terminal:
            if not tr.final_sent:
                self._emit(tr, "final", at)
            for kind, body in tr.held:  # out-of-order: the held progress events trail the final one
                self._send(tr, kind, body, at)
            tr.held.clear()
        elif changed:
            ends = final_at(job.plan)
            if tr.faults.early and snap.status is JobStatus.PROCESSING and not tr.final_sent and ends is not None:
                self._emit(tr, "final", at, render_at=ends)
            if tr.progress_events and not initial:
                self._emit(tr, "progress", at)
        if snap.status.terminal or job.forced is not None:
            return  # a forced state never changes by itself; the next change comes through track()
        if tr.progress_events or (tr.faults.early and snap.status is JobStatus.QUEUED):
            nxt = next_change(job.plan, at)
        else:
            nxt = final_at(job.plan)
        if nxt is not None and nxt > at:
            self._at(tr, nxt, generation)

    def _emit(self, tr: _Tracked, kind: EventKind, at: float, *, render_at: float | None = None) -> None:
        body = orjson.dumps(self.render(tr.job, at if render_at is None else render_at))
        if kind == "final":
            tr.final_sent = True
        if kind == "progress" and tr.faults.out_of_order and not tr.final_sent:
            tr.held.append((kind, body))
            return
        self._send(tr, kind, body, at)

    def _send(self, tr: _Tracked, kind: EventKind, body: bytes, at: float) -> None:
        tr.events += 1
        name = f"{self.settings.seed}:{tr.job.message_id}:{tr.epoch}{tr.events}"
        delivery_id = str(uuid.uuid5(_ID_NAMESPACE, name))
        if tr.faults.corrupt:
            body = corrupt(body)
        delivery = Delivery(delivery_id, tr.job.message_id, kind, tr.url, body, tr.faults, at=at)
        if tr.blocked is not None:
            self.dispatcher.block(delivery, tr.blocked)
        elif self.outbox is not None:
            self.outbox.put(delivery_id, delivery.message_id, delivery.record(), at)
        else:
            self.dispatcher.submit(delivery)

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Bind timers to the running loop (the app's lifespan calls this); a shared outbox's pump starts too."""
        self.scheduler.start()
        if self.pump is not None:
            self.pump.start()

    async def aclose(self, grace_s: float | None = None) -> int:
        """Fire what is due, finish deliveries within the grace period, journal the rest; returns abandoned count.

        Every delivery abandoned and every unfinished job whose webhook was still due is listed on the console
        and, with ``--webhook-spool FILE``, written there as JSON lines.
        """
        self.scheduler.fire_due()
        if self.pump is not None:
            await self.pump.stop()
        grace = self.settings.webhook_grace_s if grace_s is None else grace_s
        before = len(self.dispatcher.abandoned_deliveries)
        abandoned = await self.dispatcher.aclose(grace)
        await self.scheduler.aclose()
        if self.pump is not None:  # what this worker still held goes back to the outbox, for another worker
            await self.pump.release()
            return abandoned
        left = self.dispatcher.abandoned_deliveries[before:]
        with self._lock:
            unfinished = [tr for tr in self._tracked.values() if not tr.final_sent and tr.blocked is None]
        report_undelivered(left, [(tr.job, tr.url) for tr in unfinished], self.settings.webhook_spool)
        return abandoned

    def forget(self) -> None:
        """Stop tracking every job: their future events are not sent; journalled attempts stay."""
        with self._lock:
            for tracked in self._tracked.values():
                tracked.generation += 1
            self._tracked.clear()

    def reset(self) -> None:
        """Admin reset (``POST /__mock/reset``): forget tracked jobs and empty the webhook journal.

        Deliveries already handed to the dispatcher finish (or are abandoned at shutdown) as usual; what
        they journal from now on lands in the emptied journal.
        """
        self.forget()
        self.journal.clear()
        self.dispatcher.blocked_hosts.clear()


def _blocked(url: str, allow: tuple[str, ...]) -> str | None:
    """Why deliveries to `url` are not sent; also when the allow-list's parser and the sender's disagree."""
    reason = refusal(url, allow)
    if reason is not None:
        return reason
    import httpx  # here, not at start: `serve` imports httpx only once a webhook URL is in play

    try:
        sender_host = httpx.URL(url).host.lower()
    except (httpx.InvalidURL, TypeError) as exc:
        return f"{url!r} is not a URL the sender accepts: {exc}"
    if sender_host != target_host(url):
        return f"{url!r} names host {target_host(url)!r} to the allow-list but {sender_host!r} to the sender"
    return None


def _refused(url: str, reason: str, allow: tuple[str, ...]) -> Violation:
    hint = (
        "send webhookOverride to an allowed host, or start flux-mock with --webhook-allow-host <host> "
        "(env FLUX_MOCK_WEBHOOK_ALLOW_HOSTS) to allow it; --webhook-off-list block accepts it without sending"
    )
    return Violation("body", "/webhookOverride", RULE, list(allow), url, f"webhookOverride refused: {reason}", hint)


def _bad_fault(header: str, problem: str) -> Violation:
    expected = "drop, delay=N, duplicate, out-of-order, early, corrupt or none (comma-separated)"
    return Violation(
        "header",
        f"/{HEADER}",
        "x-mock-webhook-fault",
        expected,
        header,
        f"{HEADER} header: {problem}",
        "fix the header value or remove the header",
    )
