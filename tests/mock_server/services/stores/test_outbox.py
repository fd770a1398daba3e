"""The Redis outbox: due deliveries are claimed under a per-job lease; a dead holder's are taken over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from mock_server.services.stores.outbox import RedisOutbox

pytestmark = pytest.mark.anyio
RECORD = {"message_id": "job-1", "event": "final", "body": "{}"}


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    yield redis
    await redis.aclose()


async def _put(outbox: RedisOutbox, client: aioredis.Redis, delivery_id: str, due: float, job: str = "job-1") -> None:
    outbox.put(delivery_id, job, {**RECORD, "message_id": job, "delivery_id": delivery_id}, due)
    async with client.pipeline(transaction=True) as pipe:
        outbox.flush_into(pipe)
        await pipe.execute()


async def test_only_due_deliveries_are_claimed_once_and_the_next_due_instant_is_told(client: aioredis.Redis) -> None:
    a = RedisOutbox(client, "fm:", "worker-a", lease_s=5)
    await a.load()
    await _put(a, client, "d1", 10.0)
    await _put(a, client, "d2", 20.0)
    assert await a.claim(5.0) == ([], 10.0)
    claimed, nxt = await a.claim(10.0)
    assert [(i, takes) for i, _, takes in claimed] == [("d1", 1)]
    assert nxt == 20.0
    assert (await a.claim(10.0))[0] == []  # held here already: not handed out twice


async def test_a_jobs_deliveries_stay_with_the_worker_that_holds_its_lease(client: aioredis.Redis) -> None:
    a, b = RedisOutbox(client, "fm:", "worker-a", 5), RedisOutbox(client, "fm:", "worker-b", 5)
    await _put(a, client, "d1", 1.0)
    assert len((await a.claim(1.0))[0]) == 1
    await _put(a, client, "d2", 2.0)  # the same job's next event
    assert (await b.claim(3.0))[0] == []  # b may not send it while a holds the job: events stay in order
    assert [i for i, _, _ in (await a.claim(3.0))[0]] == ["d2"]


async def test_after_the_lease_another_worker_takes_over_and_says_so(client: aioredis.Redis) -> None:
    a, b = RedisOutbox(client, "fm:", "worker-a", 0.2), RedisOutbox(client, "fm:", "worker-b", 5)
    await _put(a, client, "d1", 1.0)
    await a.claim(1.0)  # a "dies" holding it: no renew, no done
    await asyncio.sleep(0.3)  # the lease is Redis's real-time expiry; nothing else here waits on real time
    claimed, _ = await b.claim(1.0)
    assert [(i, takes) for i, _, takes in claimed] == [("d1", 2)]  # taken twice: journalled as a takeover


async def test_renewing_keeps_the_lease_and_done_forgets_the_delivery(client: aioredis.Redis) -> None:
    a, b = RedisOutbox(client, "fm:", "worker-a", 0.3), RedisOutbox(client, "fm:", "worker-b", 5)
    await _put(a, client, "d1", 1.0)
    await a.claim(1.0)
    for _ in range(3):
        await asyncio.sleep(0.15)
        await a.renew(["job-1"])
    assert (await b.claim(1.0))[0] == []
    await a.done("d1", "job-1")
    assert await client.zcard("fm:outbox") == 0
    assert await client.hlen("fm:outbox:records") == 0


async def test_a_clean_stop_hands_deliveries_back_at_once(client: aioredis.Redis) -> None:
    a, b = RedisOutbox(client, "fm:", "worker-a", 60), RedisOutbox(client, "fm:", "worker-b", 60)
    await _put(a, client, "d1", 1.0)
    await a.claim(1.0)
    await a.release(["d1"], ["job-1"])
    assert [(i, takes) for i, _, takes in (await b.claim(1.0))[0]] == [("d1", 2)]


async def test_cancel_withdraws_only_later_deliveries_nobody_holds(client: aioredis.Redis) -> None:
    a = RedisOutbox(client, "fm:", "worker-a", 5)
    await a.load()
    await _put(a, client, "early", 1.0)
    await _put(a, client, "late", 50.0)
    a.cancel_after("job-1", 10.0)
    async with client.pipeline(transaction=True) as pipe:
        a.flush_into(pipe)
        await pipe.execute()
    assert await client.zrange("fm:outbox", 0, -1) == ["early"]
