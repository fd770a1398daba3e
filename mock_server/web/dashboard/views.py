"""What the dashboard shows, as JSON-ready dicts: built from the services at one instant, never from HTML.

Job state is computed from each job's plan at the given `now` (`Job.snapshot`, the same pure function a poll
uses), so a job's progress moves with the clock between requests. Keys are shown as the journal shows them
(`Services.shown_key`: masked unless ``--show-keys full``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mock_server.domain.clock import SystemClock
from mock_server.domain.jobs import Job
from mock_server.domain.lifecycle import JobStatus
from mock_server.domain.messages import format_timestamp, image_urls
from mock_server.services.container import Services
from mock_server.services.control import MockControl
from mock_server.version import __version__

ROWS = 200  # at most this many rows per journal view: the newest ones
JOB_ROWS = 100  # at most this many jobs per jobs view (the page says how many it left out)
# A filtered jobs view looks at this many of the newest jobs (~1 µs each, on the event loop), so a flush stays
# around a millisecond however big the store is; an exact messageId is looked up directly. With a shared store
# a worker reads a job's record once and keeps it, so only jobs new since the last flush cost a read.
SCAN = 2_000
STATUSES = tuple(s.value for s in JobStatus)


@dataclass(frozen=True, slots=True)
class JobFilter:
    """The jobs view's filters (query parameters ``key``, ``status``, ``messageId``); empty means any."""

    key: str = ""
    status: str = ""
    message_id: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> JobFilter:
        """Read the filters from query parameters; an unknown status is a ValueError naming the allowed ones."""
        status = query.get("status", "").strip().upper()
        if status and status not in STATUSES:
            raise ValueError(f"status has value {status!r}; it must be one of {', '.join(STATUSES)}, or empty.")
        return cls(query.get("key", "").strip(), status, query.get("messageId", "").strip())

    def matches(self, svc: Services, job: Job, status: str) -> bool:
        """Whether `job` (now in `status`) passes every filter; ``key`` matches the raw or the shown key."""
        if self.status and status != self.status:
            return False
        if self.message_id and self.message_id not in job.message_id:
            return False
        return not self.key or self.key in job.account or self.key in (svc.shown_key(job.account) or "")


def _iso(svc: Services, epoch: float) -> str | None:
    return format_timestamp(epoch, svc.settings.timestamp_format) if math.isfinite(epoch) else None


def job_row(svc: Services, job: Job, now: float) -> dict[str, Any]:
    """One line of the jobs view: status and progress at `now`, age, and seconds left to the timeout."""
    snap = job.snapshot(now)
    status = snap.status.value
    if snap.status is JobStatus.QUEUED and job.timing is not None and job.timing.queued_status:
        status = job.timing.queued_status  # what a poll shows (status-variant)
    prompt = job.prompt or ""
    return {
        "messageId": job.message_id,
        "kind": job.kind,
        "account": svc.shown_key(job.account),
        "prompt": prompt if len(prompt) <= 80 else prompt[:79] + "…",
        "status": status,
        "progress": snap.progress,
        "scenario": job.scenario,
        "forced": job.forced is not None,
        "error": snap.error,
        "age": round(now - job.plan.created_at, 1),
        "deadlineIn": None if snap.status.terminal else round(job.plan.created_at + job.timeout - now, 1),
    }


async def jobs_view(svc: Services, now: float, wanted: JobFilter) -> dict[str, Any]:
    """The newest matching jobs (at most `JOB_ROWS`), newest first, and how many jobs there are in all.

    Read through the store: with ``--store redis://`` every worker shows the fleet's jobs, the same rows.
    """
    exact = await svc.store.find(wanted.message_id) if wanted.message_id else None
    filtered = bool(wanted.key or wanted.status or wanted.message_id)
    # Unfiltered, the newest `JOB_ROWS` are the rows; a filter looks at the newest `SCAN`. Filters run on the
    # jobs before a row is built, since building rows is what costs.
    newest, total = await svc.store.newest(SCAN if filtered else JOB_ROWS)
    if exact is not None:
        newest = [exact]
    rows: list[dict[str, Any]] = []
    for job in newest:
        snap = job.snapshot(now)
        if wanted.status and snap.status.value != wanted.status:
            continue
        if wanted.matches(svc, job, wanted.status or snap.status.value):
            rows.append(job_row(svc, job, now))
            if len(rows) == JOB_ROWS:
                break
    return {"total": total, "rows": rows, "limit": JOB_ROWS, "scanned": len(newest)}


async def job_detail(
    control: MockControl,
    message_id: str,
    now: float,
    requests: list[dict[str, Any]],
    attempts: list[dict[str, Any]],
) -> dict[str, Any]:
    """One job: its plan as a timeline, what a poll sees now, its requests, webhook attempts and images.

    `requests` and `attempts` are the job's journal entries (JSON-ready, as the store gives them).
    """
    svc = control.services
    job = await svc.store.find(message_id)  # with a shared store, kept here from now on (`control.message` reads it)
    if job is None:
        return {"messageId": message_id, "missing": True}
    plan = job.plan
    deadline = plan.created_at + job.timeout
    row = job_row(svc, job, now)
    ends = plan.outcome.value if math.isfinite(plan.ends_at) else "never ends (stall)"
    queued = plan.starts_at > plan.created_at  # a job that starts at once was never QUEUED: no such step
    timeline = [
        {"step": "created", "at": _iso(svc, plan.created_at), "in": round(plan.created_at - now, 1)},
        *([{"step": "QUEUED until", "at": _iso(svc, plan.starts_at), "in": round(plan.starts_at - now, 1)}] * queued),
        {"step": f"PROCESSING → {ends}", "at": _iso(svc, plan.ends_at), "in": _in(plan.ends_at, now)},
        {"step": "timeout deadline", "at": _iso(svc, deadline), "in": round(deadline - now, 1)},
    ]
    done = job.snapshot(now).status is JobStatus.DONE
    return row | {
        "missing": False,
        "n": job.n,
        "timeout": job.timeout,
        "ref": job.ref,
        "webhookUrl": job.webhook_url,
        "plan": {"outcome": plan.outcome.value, "error": plan.error, "progressCap": plan.progress_cap},
        "timeline": timeline,
        "message": control.message(message_id),
        "images": image_urls(svc, job) if done else [],
        "requests": [request_row(e) for e in requests[-ROWS:]],
        "webhooks": [webhook_row(a) for a in attempts[-ROWS:]],
    }


def _in(epoch: float, now: float) -> float | None:
    return round(epoch - now, 1) if math.isfinite(epoch) else None


def request_row(entry: dict[str, Any]) -> dict[str, Any]:
    """One journal entry (JSON-ready) as the requests view shows it (the body left out: it can be long)."""
    return {name: value for name, value in entry.items() if name != "body"}


def webhook_row(attempt: dict[str, Any]) -> dict[str, Any]:
    """One webhook attempt (JSON-ready) without the headers and payload sent (``GET /__mock/webhooks`` has them).

    ``attempt`` is None for a delivery never tried (blocked, recorded by a dry run): the page says "not sent".
    """
    row = {name: value for name, value in attempt.items() if name not in ("headers", "payload")}
    if not row.get("attempt"):  # blocked, recorded (dry run) or dropped before any try: "Attempt 0" misleads
        row["attempt"] = None
    return row


def health_view(control: MockControl, now: float, counts: dict[str, int]) -> dict[str, Any]:
    """Mock time, whether it is frozen, seed, counts (the store's: `Store.counts`), webhook queue, rate-limit mode."""
    svc = control.services
    settings = svc.settings
    dispatcher = svc.webhooks.dispatcher
    return {
        "version": __version__,
        "now": _iso(svc, now),
        "epoch": now,
        "offset": round(float(getattr(svc.clock, "offset", 0.0)), 3),
        "frozen": control.frozen,
        "clock": "system" if isinstance(svc.clock, SystemClock) else "virtual",
        "seed": settings.seed,
        "jobs": counts["jobs"],
        "requests": counts["requests"],
        "webhookAttempts": counts["webhooks"],
        "webhooksPending": dispatcher.pending,
        "webhooksInFlight": dispatcher.in_flight,
        "armed": [rule.as_dict() for rule in control.armed],
        "rateLimit": {
            "mode": settings.rate_limit,
            "windows": {name: {"limit": w.limit, "seconds": w.seconds} for name, w in svc.limiter.windows.items()},
        },
        "anyKey": not settings.api_keys,
    }
