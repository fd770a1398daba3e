"""Recordings made through `flux-mock proxy --record` in front of an in-process upstream, on a virtual clock.

`record` runs a client session through the proxy and returns the HAR file: the upstream is the faithful mock or a
mutant of it (`mutants.py`), paced `job_seconds` per job. `drift_session` is the flow issue 21 names: a Flux job
with n=2, a Midjourney grid and U1 pressed on it, each followed on both poll paths until it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from mutants import Call, Mutant, Rewrite, _on_message, faithful
from proxy_session import IMAGINE, created, follow, proxy_app

from mock_server import VirtualClock

START = 1_750_000_000.0
Session = Callable[[httpx.AsyncClient, VirtualClock], Awaitable[None]]


async def drift_session(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    """Flux n=2, a Midjourney grid, then U1 on the DONE grid; each job polled on both paths until it ends."""
    flux = await created(client, IMAGINE, {"prompt": "a red fox in the snow", "n": 2})
    assert flux is not None, "the upstream refused the Flux job"
    await follow(client, clock, flux)
    grid = await created(client, "/api/v1/nova/imagine", {"prompt": "a lighthouse at dusk"})
    assert grid is not None, "the upstream refused the grid"
    await follow(client, clock, grid)
    upscale = await created(client, "/api/v1/nova/button", {"messageId": grid, "button": "U1"})
    assert upscale is not None, "the upstream refused U1 on a DONE grid"
    await follow(client, clock, upscale)


def _lowercase(call: Call, body: dict[str, Any]) -> None:
    if isinstance(body.get("status"), str):
        body["status"] = body["status"].lower()


# Statuses in lowercase (queued, processing, done): a mutant for recordings; `status-outside-enum` holds the same
# rule for `flux-mock check`.
LOWERCASE_STATUSES = Mutant(
    "lowercase-statuses", "statuses are lowercase", frozenset({"matches_schema"}), response=_on_message(_lowercase)
)


def record(
    target: Path,
    mutant: Mutant | None = None,
    *,
    job_seconds: float = 6.0,
    session: Session = drift_session,
) -> Path:
    """Record `session` through the proxy in front of the faithful mock (or `mutant`) into `target`."""

    async def run() -> None:
        clock = VirtualClock(start=START)
        upstream: Rewrite | Any = (
            faithful(clock, job_seconds) if mutant is None else mutant.build(clock, job_seconds=job_seconds)
        )
        app = proxy_app(upstream, clock, record=str(target))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
            await session(client, clock)
        app.state.recorder.close()

    asyncio.run(run())
    return target


class Recordings:
    """Recordings made once per test session (each takes about a second), by upstream and pacing."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._made: dict[tuple[str, float, str], Path] = {}

    def get(self, mutant: str | None = None, *, job_seconds: float = 6.0, probes: bool = False) -> Path:
        """The recording of `drift_session` (or, with `probes`, the proxy's scripted session with its error probes)
        through the proxy in front of the faithful mock or the named mutant, paced `job_seconds` per job."""
        from mutants import MUTANTS
        from proxy_session import session

        key = (mutant or "faithful", job_seconds, "probes" if probes else "drift")
        if key not in self._made:
            known = {m.name: m for m in (*MUTANTS, LOWERCASE_STATUSES)}
            chosen = known[mutant] if mutant is not None else None
            target = self.folder / f"{key[0]}-{job_seconds:g}s-{key[2]}.har"
            self._made[key] = record(
                target, chosen, job_seconds=job_seconds, session=session if probes else drift_session
            )
        return self._made[key]
