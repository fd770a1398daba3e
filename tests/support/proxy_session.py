"""A scripted client session through `flux-mock proxy`, on a virtual clock: what a staging app would send.

Two jobs followed on both progress paths (alternating order) to the end, their images downloaded through the
proxy, then (with `probes`) the error answers a real client meets: an unknown job, no key, four invalid bodies.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from mutants import API_KEY, Mutant, faithful
from starlette.types import ASGIApp

from contracts.proxy.watch import LifecycleWatch
from mock_server import ProxyOptions, Settings, VirtualClock, create_proxy_app

AUTH = {"Authorization": f"Bearer {API_KEY}"}
IMAGINE = "/api/v1/flux/imagine"
PATHS = ("/api/v1/message/fetch/{}", "/api/v1/midjourney/message/{}")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
INVALID_BODIES = [
    {"prompt": "a red fox", "n": 5},
    {"prompt": "a red fox", "width": 1001},
    {"n": 1},
    {"prompt": "a red fox", "colour": "red"},
]


def upstream(mutant: Mutant | None, clock: VirtualClock) -> ASGIApp:
    """The faithful mock, or one mutant of it, as the upstream (seed 7, 3 s jobs, key sk-mutant)."""
    return faithful(clock) if mutant is None else mutant.build(clock)


def proxy_app(up: ASGIApp, clock: VirtualClock, **options: Any) -> Any:
    """The proxy in front of `up`, with the contract kit's lifecycle checks as its observer."""
    opts = ProxyOptions("http://upstream.test", transport=httpx.ASGITransport(up), **options)
    return create_proxy_app(Settings(), opts, observe=LifecycleWatch(), clock=clock)


async def follow(client: httpx.AsyncClient, clock: VirtualClock, message_id: str) -> None:
    """Poll both paths, alternating which goes first, until both are final, the job is lost or 30 s passed."""
    started, rounds, final = clock.now(), 0, set()
    while len(final) < 2 and clock.now() - started < 30:
        clock.advance(0.5 if rounds < 10 else 3.0)  # binary-exact steps: recorded ms times replay exactly
        order = PATHS if rounds % 2 == 0 else PATHS[::-1]
        rounds += 1
        for path in order:
            answer = await client.get(path.format(message_id), headers=AUTH)
            if answer.status_code == 404:
                return
            body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
            if isinstance(body, dict) and body.get("status") in ("DONE", "FAIL"):
                final.add(path)
                for url in body.get("images", []) if path == PATHS[0] else []:
                    await client.get(urlsplit(url).path)  # images through the proxy, as a CDN-less staging app would


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str | None:
    answer = await client.post(path, json=body, headers=AUTH)
    message_id = answer.json().get("messageId") if answer.status_code == 200 else None
    return message_id if isinstance(message_id, str) else None


async def midjourney(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    """A grid, a button pressed too early and then on the DONE grid, describe and a video."""
    grid = await created(client, "/api/v1/nova/imagine", {"prompt": "a lighthouse --ar 3:2", "timeout": 60})
    if grid is None:
        return
    await client.get(PATHS[0].format(grid), headers=AUTH)  # seen QUEUED or PROCESSING by the watch
    await client.post("/api/v1/nova/button", json={"messageId": grid, "button": "U1"}, headers=AUTH)  # too early
    await follow(client, clock, grid)
    upscale = await created(client, "/api/v1/nova/button", {"messageId": grid, "button": "U1"})
    if upscale is not None:
        await follow(client, clock, upscale)
    described = await created(client, "/api/v1/nova/describe", {"url": "https://example.com/a.png", "timeout": 60})
    if described is not None:
        await follow(client, clock, described)
    video = await created(
        client,
        "/api/v1/video/mj/generate",
        {"startFrameUrl": "https://e.test/a.jpg", "endFrameUrl": "https://e.test/b.jpg", "timeout": 60},
    )
    if video is not None:
        await follow(client, clock, video)


async def session(client: httpx.AsyncClient, clock: VirtualClock, *, probes: bool = True) -> None:
    """Run the scripted session against `client` (the proxy's base URL)."""
    jobs = [
        {"prompt": "a red fox in the snow", "n": 2, "ref": "staging-1", "timeout": 10, "width": 512, "height": 512},
        {"prompt": "a lighthouse at dusk", "timeout": 10},
    ]
    await client.get("/api/v1/subscription/account-info", headers=AUTH)  # the balance before: 18 credits follow
    for body in jobs:
        created = await client.post(IMAGINE, json=body, headers=AUTH)
        message_id = created.json().get("messageId") if created.status_code == 200 else None
        if isinstance(message_id, str):
            await follow(client, clock, message_id)
    await client.get("/api/v1/subscription/account-info", headers=AUTH)
    await midjourney(client, clock)
    if not probes:
        return
    await client.get(PATHS[0].format(UNKNOWN), headers=AUTH)
    await client.get(PATHS[0].format(UNKNOWN))
    for body in INVALID_BODIES:
        await client.post(IMAGINE, json=body, headers=AUTH)
