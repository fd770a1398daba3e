"""Real deliveries for the receiver scenarios, made by the mock itself.

An in-process mock (a `VirtualClock`, ``--webhook-transport record``) runs one job per scenario, with the
webhook fault that scenario needs (``corrupt``, ``out-of-order``, ``early``), and journals every delivery it
would send instead of sending it: the body comes from the one Message renderer (byte-for-byte what GET returns at
the instant of the event), the headers and delivery ids are the dispatcher's. Nothing here builds a payload by
hand. Signatures are added per attempt when they are sent (`exchanges`), as the mock re-signs every attempt.

Two mocks run: one with ``--webhook-events progress`` for the scenarios about progress events, one with final
events only for the rest (a burst of 500 jobs would otherwise journal 50 000 progress events). They get different
seeds, so no two jobs share a messageId.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_server import WebhookAttempted

API_KEY = "sk-flux-mock-verify-receiver"
_PROGRESS_SEED_OFFSET = 7919  # the progress mock's seed: another id sequence than the final mock's

FLUX = "/api/v1/flux/imagine"
_FLUX_BODY = {"prompt": "a red fox in the snow"}
_VIDEO_BODY = {
    "startFrameUrl": "https://cdn.example.com/frames/start.png",
    "endFrameUrl": "https://cdn.example.com/frames/end.png",
}


@dataclass(frozen=True, slots=True)
class JobOrder:
    """One job the harvesting mock runs: where it is created, with what, and with which scenario or fault."""

    role: str
    path: str
    body: Mapping[str, Any]
    scenario: str | None = None  # X-Mock-Scenario
    fault: str | None = None  # X-Mock-Webhook
    progress: bool = False  # run on the mock that sends progress events


def _orders(burst: int) -> tuple[JobOrder, ...]:
    flux = [
        "done",
        "duplicate",
        "bad-signature",
        "missing-signature",
        "tampered-body",
        "stale-timestamp",
        "future-timestamp",
    ]
    return (
        *(JobOrder(role, FLUX, _FLUX_BODY) for role in flux),
        JobOrder("fail", FLUX, _FLUX_BODY, scenario="fail:40"),
        JobOrder("mj-grid", "/api/v1/nova/imagine", {"prompt": "a little cat running on the grass --ar 16:9"}),
        JobOrder("video", "/api/v1/video/mj/generate", _VIDEO_BODY),
        JobOrder("corrupt", FLUX, _FLUX_BODY, fault="corrupt"),
        *(JobOrder(f"burst-{i}", FLUX, {"prompt": f"a red fox, take {i}"}) for i in range(burst)),
        JobOrder("progress", FLUX, _FLUX_BODY, progress=True),
        JobOrder("progress-after-final", FLUX, _FLUX_BODY, fault="out-of-order", progress=True),
        JobOrder("early-final", FLUX, _FLUX_BODY, fault="early", progress=True),
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook delivery exactly as the mock would send it (first attempt, unsigned)."""

    delivery_id: str
    message_id: str
    event: str  # final | progress
    headers: tuple[tuple[str, str], ...]  # Content-Type, User-Agent, X-Mock-Delivery-Id, -Attempt, -Event
    body: bytes

    @classmethod
    def from_attempt(cls, attempt: WebhookAttempted) -> Delivery:
        """The delivery a journalled (recorded) attempt describes."""
        return cls(
            attempt.delivery_id,
            attempt.message_id,
            attempt.event,
            tuple(attempt.headers.items()),
            attempt.payload.encode(),
        )


@dataclass(frozen=True, slots=True)
class Harvest:
    """Every job's deliveries, in the order the mock sends them, by role (``done``, ``burst-3``, ...)."""

    by_role: Mapping[str, tuple[Delivery, ...]]

    def of(self, role: str) -> tuple[Delivery, ...]:
        """The deliveries of the job that plays `role`."""
        return self.by_role[role]

    def final(self, role: str) -> Delivery:
        """The job's final delivery."""
        return next(d for d in self.of(role) if d.event == "final")

    def progress(self, role: str) -> tuple[Delivery, ...]:
        """The job's progress deliveries, in order."""
        return tuple(d for d in self.of(role) if d.event == "progress")


def pick(items: Sequence[Delivery], count: int) -> tuple[Delivery, ...]:
    """`count` items spread evenly over `items`, first and last included, in order (a job sends ~100 progress
    events; a few show whether a receiver takes them)."""
    if len(items) <= count:
        return tuple(items)
    step = (len(items) - 1) / (count - 1)
    return tuple(items[round(i * step)] for i in range(count))


@functools.lru_cache(maxsize=4)
def harvest(seed: int, burst: int) -> Harvest:
    """The deliveries of every scenario for `seed` (same seed, same ids), with `burst` jobs for the burst.

    Runs two in-process mocks on virtual time in a fresh event loop (so it can be called from any thread), in
    well under a second; the result is cached per (seed, burst).
    """
    return asyncio.run(_harvest(seed, burst))


async def _harvest(seed: int, burst: int) -> Harvest:
    orders = _orders(burst)
    # Recent timestamps: the jobs ran during the last minute, as they would have for a real delivery.
    start = float(math.floor(time.time()) - 60)
    found: dict[str, tuple[Delivery, ...]] = {}
    for progress in (False, True):
        chosen = [o for o in orders if o.progress is progress]
        found.update(await _run_mock(chosen, seed + (_PROGRESS_SEED_OFFSET if progress else 0), progress, start))
    return Harvest(found)


async def _run_mock(
    orders: Sequence[JobOrder], seed: int, progress: bool, start: float
) -> dict[str, tuple[Delivery, ...]]:
    import httpx

    from mock_server import Settings, VirtualClock, create_app

    settings = Settings(
        seed=seed,
        api_keys=(API_KEY,),
        concurrency=max(4, len(orders)),  # nothing waits in QUEUED
        rate_limit="off",
        log_level="warning",
        webhook_events="progress" if progress else "final",
        webhook_transport="record",  # journalled, never sent: exchanges.py sends them
        webhook_allow_hosts=("*",),  # nothing is contacted, so the allow-list has nothing to guard here
        journal_size=max(10_000, 120 * len(orders)),
    )
    app = create_app(settings, clock=VirtualClock(start=start))
    webhooks = app.state.control.services.webhooks
    roles: dict[str, str] = {}
    transport = httpx.ASGITransport(app=app)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://flux-mock.invalid", headers=auth) as api:
        for order in orders:
            headers = {"X-Mock-Scenario": order.scenario or "success"}
            if order.fault:
                headers["X-Mock-Webhook"] = order.fault
            body = {**order.body, "ref": f"verify-receiver:{order.role}", "webhookOverride": "http://receiver.invalid/"}
            response = await api.post(order.path, json=body, headers=headers)
            if response.status_code != 200:  # the mock refusing its own request is a bug here, not a user error
                raise RuntimeError(f"the harvesting mock refused {order.path}: {response.status_code} {response.text}")
            roles[response.json()["messageId"]] = order.role
        app.state.control.advance(3600)  # every job ends; each event is handed to the dispatcher
        await webhooks.aclose(5.0)  # the dispatcher journals what it was handed, then stops
    grouped: dict[str, list[Delivery]] = {role: [] for role in roles.values()}
    for attempt in webhooks.journal.entries():
        if attempt.outcome == "recorded" and attempt.message_id in roles:
            grouped[roles[attempt.message_id]].append(Delivery.from_attempt(attempt))
    return {role: tuple(items) for role, items in grouped.items()}
