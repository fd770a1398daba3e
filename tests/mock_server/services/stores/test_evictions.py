"""A full shared store forgets its oldest jobs in batches, and a create that evicts answers once every worker
dropped its copies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mock_server import Settings, VirtualClock, create_app
from mock_server.domain.jobs import eviction_batch

pytestmark = pytest.mark.anyio
KEY = {"Authorization": "Bearer sk-test"}
CAP = 200  # eviction_batch(200) == 2


class Worker:
    def __init__(self, url: str) -> None:
        settings = Settings(seed=1, api_keys=("sk-test",), store=url, max_jobs=CAP)
        self.app: Starlette = create_app(settings, clock=VirtualClock(start=1_750_000_000.0))
        self.svc = self.app.state.services
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080", headers=KEY)

    async def create(self) -> str:
        answer = await self.client.post("/api/v1/flux/imagine", json={"prompt": "a red fox"})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["messageId"])


@pytest.fixture
async def pair(redis_url: str) -> AsyncIterator[tuple[Worker, Worker]]:
    workers = (Worker(redis_url), Worker(redis_url))
    for w in workers:
        await w.svc.store.start()
    try:
        yield workers
    finally:
        for w in workers:
            await w.svc.store.aclose()
            await w.client.aclose()


async def test_past_the_cap_the_oldest_go_in_a_batch_and_every_worker_forgot_them_when_the_create_answers(
    pair: tuple[Worker, Worker],
) -> None:
    a, b = pair
    assert eviction_batch(CAP) == 2
    apply = b.svc.store.fleet.apply

    async def busy(change: dict[str, Any]) -> None:  # b is busy: it applies changes late
        await asyncio.sleep(0.05)
        await apply(change)

    b.svc.store.fleet.apply = busy
    made = [await a.create() for _ in range(CAP)]
    assert (await b.client.get(f"/api/v1/message/fetch/{made[0]}")).status_code == 200  # b keeps a copy now
    assert b.svc.jobs.find(made[0]) is not None

    await a.create()  # one past the cap: down to the cap less the batch, the oldest three
    # No await between: the create answered after b acknowledged the eviction, so b's copy is already gone.
    assert b.svc.jobs.find(made[0]) is None
    store = a.svc.store
    kept = await store.client.exists(*(store.key("job", i) for i in made))
    assert kept == CAP - eviction_batch(CAP) - 1
    assert (await b.client.get(f"/api/v1/message/fetch/{made[0]}")).status_code == 404
    assert (await b.client.get(f"/api/v1/message/fetch/{made[3]}")).status_code == 200
    assert (await a.client.get("/__mock/health")).json()["jobs"] == CAP - eviction_batch(CAP)

    await a.create()  # below the cap again: nothing more is forgotten
    assert await store.client.exists(*(store.key("job", i) for i in made)) == CAP - eviction_batch(CAP) - 1
