"""The dashboard on a shared store (``--store redis://``): two in-process workers show the same rows and journals."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from mock_server import MockControl, Settings, VirtualClock, create_app
from mock_server.web.dashboard.stream import Feed
from mock_server.web.dashboard.views import JobFilter

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # two apps and Redis: ~1 s each
KEY = {"Authorization": "Bearer sk-test"}


class Worker:
    """One app on the shared store, started as its lifespan would."""

    def __init__(self, url: str, clock: VirtualClock) -> None:
        settings = Settings(seed=1, job_seconds=10.0, api_keys=("sk-test",), store=url)
        self.app: Starlette = create_app(settings, clock=clock)
        self.svc = self.app.state.services
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080", headers=KEY)

    async def create(self, prompt: str) -> str:
        answer = await self.client.post("/api/v1/flux/imagine", json={"prompt": prompt})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["messageId"])

    def feed(self, job_id: str | None = None) -> AsyncIterator[bytes]:
        control: MockControl = self.app.state.control
        return Feed(control, JobFilter(), job_id, flush_s=0.001).events()


@pytest.fixture
async def pair(redis_url: str) -> AsyncIterator[tuple[Worker, Worker]]:
    clock = VirtualClock(start=1_750_000_000.0)
    workers = (Worker(redis_url, clock), Worker(redis_url, clock))
    for worker in workers:
        await worker.svc.store.start()
    yield workers
    for worker in workers:
        await worker.svc.store.aclose()
        await worker.client.aclose()


def _parse(frame: bytes) -> tuple[str, Any]:
    lines = dict(line.split(": ", 1) for line in frame.decode().strip().splitlines() if ": " in line)
    return lines.get("event", ""), orjson.loads(lines["data"]) if "data" in lines else None


async def _until(events: AsyncIterator[bytes], name: str, limit: int = 50) -> Any:
    for _ in range(limit):
        event, data = _parse(await anext(events))
        if event == name:
            return data
    raise AssertionError(f"no {name} event within {limit} frames")


async def test_a_workers_stream_shows_the_fleets_jobs_and_journal(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    made = [await a.create("on a"), await b.create("on b")]
    events = b.feed()
    first = await _until(events, "requests")
    assert [(e["seq"], e["messageId"]) for e in first["entries"]] == [(1, made[0]), (2, made[1])]
    health = await _until(events, "health")  # sent before the jobs view at each flush
    assert (health["jobs"], health["requests"]) == (2, 2)
    jobs = await _until(events, "jobs")
    assert [r["messageId"] for r in jobs["rows"]] == made[::-1]
    assert jobs["total"] == 2

    third = await a.create("again on a")
    new = await _until(events, "requests")
    assert (new["reset"], [e["messageId"] for e in new["entries"]]) == (False, [third])

    assert (await a.client.post("/__mock/reset")).status_code == 200
    await b.create("after the reset")
    again = await _until(events, "requests")
    assert again["reset"] is True
    assert [e["seq"] for e in again["entries"]] == [1]
    await events.aclose()  # type: ignore[attr-defined]


async def test_a_job_page_on_another_worker_has_the_jobs_requests(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    message_id = await a.create("made on a")
    assert (await a.client.get(f"/api/v1/message/fetch/{message_id}")).status_code == 200
    events = b.feed(job_id=message_id)
    job = await _until(events, "job")
    assert job["missing"] is False
    assert [e["method"] for e in job["requests"]] == ["POST", "GET"]
    await a.client.get(f"/api/v1/message/fetch/{message_id}")
    job = await _until(events, "job")
    assert [e["method"] for e in job["requests"]] == ["POST", "GET", "GET"]
    await events.aclose()  # type: ignore[attr-defined]

    page = await b.client.get(f"/__mock/ui/jobs/{message_id}")
    assert page.status_code == 200
    assert page.text.count('data-seq="') == 3  # its three requests, though b answered none of them


async def test_the_first_paint_of_each_worker_lists_the_fleets_jobs(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    made = [await a.create("on a"), await b.create("on b")]
    for worker in pair:
        page = await worker.client.get("/__mock/ui")
        assert re.findall(r'<tr data-id="([^"]+)"', page.text) == made[::-1]
        requests = await worker.client.get("/__mock/ui/requests")
        assert requests.text.count('data-seq="') == 2
        filtered = await worker.client.get("/__mock/ui", params={"messageId": made[0]})
        assert re.findall(r'<tr data-id="([^"]+)"', filtered.text) == [made[0]]
    with pytest.raises(ValueError, match="journal has value 'jobs'"):
        await a.svc.store.tail("jobs", 5)


async def test_a_store_away_for_a_moment_pauses_the_stream_instead_of_ending_it(pair: tuple[Worker, Worker]) -> None:
    import redis.asyncio as aioredis

    a, b = pair
    store = b.svc.store
    control: MockControl = b.app.state.control
    working, store.client = store.client, aioredis.from_url("redis://127.0.0.1:1/0")  # as if Redis went away
    try:
        frames = [_parse(f)[0] async for f in Feed(control, JobFilter(), flush_s=0.01, lifetime_s=0.2).events()]
    finally:
        await store.client.aclose()
        store.client = working
    assert "jobs" not in frames  # every flush failed: nothing sent, and no error ended the stream early
    assert frames[-1] == "reconnect"
    made = await a.create("after the outage")
    events = b.feed()
    jobs = await _until(events, "jobs")
    assert [r["messageId"] for r in jobs["rows"]] == [made]
    await events.aclose()  # type: ignore[attr-defined]
