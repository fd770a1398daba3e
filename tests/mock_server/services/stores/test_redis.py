"""RedisStore against a real redis-server: two in-process "workers" (two apps, one database) share state."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from mock_server import Settings, VirtualClock, create_app
from mock_server.domain.jobs import Timing
from mock_server.services.stores.outbox import Planned
from mock_server.services.stores.redis import RedisStore, StoreUnavailable, check_reachable

KEY = {"Authorization": "Bearer sk-test"}
pytestmark = pytest.mark.anyio


class Worker:
    """One app on the shared store, started as its lifespan would (store, webhook pump)."""

    def __init__(self, url: str, clock: VirtualClock, **settings: object) -> None:
        base = {"seed": 1, "job_seconds": 10.0, "api_keys": ("sk-test",), "store": url}
        self.app: Starlette = create_app(Settings(**(base | settings)), clock=clock)  # type: ignore[arg-type]
        self.svc = self.app.state.services
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://127.0.0.1:8080", headers=KEY
        )

    async def __aenter__(self) -> Worker:
        self.svc.webhooks.start()
        await self.svc.store.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.svc.webhooks.aclose()
        await self.svc.store.aclose()
        await self.client.aclose()

    async def create(self, prompt: str = "a red fox") -> str:
        answer = await self.client.post("/api/v1/flux/imagine", json={"prompt": prompt})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["messageId"])


@pytest.fixture
async def pair(redis_url: str) -> AsyncIterator[tuple[Worker, Worker]]:
    async with (
        Worker(redis_url, VirtualClock(start=1_750_000_000.0)) as a,
        Worker(redis_url, VirtualClock(start=1_750_000_000.0)) as b,
    ):
        yield a, b


async def test_a_job_made_on_one_worker_is_read_on_the_other_and_cached_there(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    message_id = await a.create()
    assert len(b.svc.jobs) == 0
    polled = await b.client.get(f"/api/v1/message/fetch/{message_id}")
    assert polled.json()["status"] == "PROCESSING"
    assert b.svc.jobs.find(message_id) is not None  # kept: the next poll makes no round trip
    assert (await b.client.get("/api/v1/message/fetch/00000000-0000-4000-8000-000000000000")).status_code == 404


async def test_ids_follow_the_fleet_wide_arrival_number(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    ids = [await a.create(), await b.create(), await a.create()]
    expected = [a.svc.jobs.ids.nth(n) for n in (1, 2, 3)]
    assert ids == expected  # the same ids one process gives the same seed, in arrival order


async def test_slots_are_booked_in_redis_so_the_second_worker_queues_behind_the_first(redis_url: str) -> None:
    clock_a, clock_b = VirtualClock(start=1_750_000_000.0), VirtualClock(start=1_750_000_000.0)
    async with (
        Worker(redis_url, clock_a, concurrency=1) as a,
        Worker(redis_url, clock_b, concurrency=1) as b,
    ):
        first, second = await a.create(), await b.create()
        plan_a, plan_b = a.svc.jobs.get(first).plan, b.svc.jobs.get(second).plan
        assert plan_b.starts_at == plan_a.ends_at  # one slot: the second job waits for the first
        assert (await b.client.get(f"/api/v1/message/fetch/{second}")).json()["status"] == "QUEUED"


async def test_the_lua_slot_rule_books_the_same_end_as_the_plan(pair: tuple[Worker, Worker]) -> None:
    # A job that stalls never ends (infinite run), and one with a short timeout ends at its deadline.
    a, _ = pair
    store = a.svc.store
    assert isinstance(store, RedisStore)
    stalled = await store.submit("k", Timing(10, stall_at=50), {"kind": "imagine", "timeout": 900})
    cut = await store.submit("k", Timing(10), {"kind": "imagine", "timeout": 5})
    slots = await store.client.zrange(store.key("slots", "k"), 0, -1, withscores=True)
    assert sorted(score for _, score in slots) == sorted([stalled.plan.ends_at, cut.plan.ends_at])
    assert cut.plan.ends_at == cut.plan.created_at + 5


async def test_admin_changes_reach_the_other_worker_before_the_call_returns(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    message_id = await a.create()
    await b.client.get(f"/api/v1/message/fetch/{message_id}")  # b now holds a copy
    forced = await a.client.post(f"/__mock/jobs/{message_id}/force", json={"status": "FAIL", "progress": 30})
    assert forced.status_code == 200
    assert (await b.client.get(f"/api/v1/message/fetch/{message_id}")).json()["status"] == "FAIL"
    await a.client.post("/__mock/clock/advance", json={"seconds": 42})
    assert b.svc.clock.offset == 42
    armed = await b.client.post("/__mock/scenarios", json={"scenario": "fail", "count": 1})
    assert armed.status_code == 201
    assert [r.id for r in a.svc.scenarios.rules] == [armed.json()["id"]]


async def test_a_counted_rule_shapes_one_job_of_the_fleet(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    await a.client.post("/__mock/scenarios", json={"scenario": "fail", "count": 1})
    ids = [await w.create() for w in (b, a, b, a)]
    scenarios = [(await a.svc.store.find(i)).scenario for i in ids]  # type: ignore[union-attr]
    assert scenarios.count("fail") == 1


async def test_credits_and_rate_limits_are_per_key_across_workers(redis_url: str) -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    async with (
        Worker(redis_url, clock, credits=12, rate_limit="documented") as a,
        Worker(redis_url, clock, credits=12, rate_limit="documented") as b,
    ):
        await a.create()
        limited = await b.client.post("/api/v1/flux/imagine", json={"prompt": "x"})
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "3"
        clock.advance(3)
        await b.create()
        clock.advance(3)
        short = await a.client.post("/api/v1/flux/imagine", json={"prompt": "x"})
        assert short.status_code == 401
        assert "Insufficient credits" in short.text
        assert (await b.client.get("/__mock/credits")).json()["balances"] == {"sk…st": 0}


async def test_the_journal_and_health_are_the_fleets(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    first, second = await a.create(), await b.create()
    entries = (await b.client.get("/__mock/requests")).json()
    assert [e["messageId"] for e in entries] == [first, second]
    assert [e["seq"] for e in entries] == [1, 2]
    health = (await a.client.get("/__mock/health")).json()
    assert (health["store"], health["jobs"], health["requests"]) == ("redis", 2, 2)


async def test_reset_empties_the_store_and_every_replica(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    first = await a.create()
    await b.client.get(f"/api/v1/message/fetch/{first}")
    assert (await b.client.post("/__mock/reset")).status_code == 200
    assert len(a.svc.jobs) == 0
    assert len(b.svc.jobs) == 0
    assert (await a.client.get(f"/api/v1/message/fetch/{first}")).status_code == 404
    assert await a.create() == first  # the id sequence restarts, as after a reset of one process


async def test_jobs_expire_after_the_ttl_and_the_listing_pages(redis_url: str) -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    async with Worker(redis_url, clock, job_ttl=60.0) as a:
        ids = [await a.create() for _ in range(5)]
        page = await a.client.get("/__mock/jobs", params={"limit": 2})
        assert [j["messageId"] for j in page.json()] == ids[:2]
        assert page.headers["X-Total-Count"] == "5"
        assert page.headers["Link"] == '</__mock/jobs?limit=2&after=2>; rel="next"'
        last = await a.client.get("/__mock/jobs", params={"limit": 2, "after": 4})
        assert [j["messageId"] for j in last.json()] == ids[4:]
        assert "Link" not in last.headers
        a.svc.jobs.discard(ids[0])  # so the shared record, not this worker's copy, is what expires
        clock.advance(61)
        assert (await a.client.get(f"/api/v1/message/fetch/{ids[0]}")).status_code == 404


async def test_max_jobs_evicts_the_oldest_record_from_redis(redis_url: str) -> None:
    async with Worker(redis_url, VirtualClock(), max_jobs=3) as a:
        ids = [await a.create() for _ in range(5)]
        store = a.svc.store
        assert await store.client.exists(*(store.key("job", i) for i in ids)) == 3
        assert (await a.client.get("/__mock/health")).json()["jobs"] == 3


def test_an_unreachable_store_says_how_to_start_redis() -> None:
    with pytest.raises(StoreUnavailable, match="redis-server --port 6379"):
        check_reachable("redis://127.0.0.1:1/0", timeout=0.5)


async def test_expired_jobs_leave_the_shared_index_too(redis_url: str) -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    async with Worker(redis_url, clock, job_ttl=60.0) as a:
        for _ in range(3):
            await a.create()
        clock.advance(61)
        await a.create()  # each create trims what expired
        assert (await a.client.get("/__mock/health")).json()["jobs"] == 1
        assert (await a.client.get("/__mock/jobs")).headers["X-Total-Count"] == "1"


async def test_a_store_that_stops_answering_is_a_503_naming_it(redis_url: str) -> None:
    import redis.asyncio as aioredis

    async with Worker(redis_url, VirtualClock()) as a:
        store = a.svc.store
        working, store.client = store.client, aioredis.from_url("redis://127.0.0.1:1/0")  # as if Redis went away
        transport = httpx.ASGITransport(app=a.app, raise_app_exceptions=False)  # as a server: answer, then log
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080", headers=KEY) as client:
            answer = await client.get("/api/v1/message/fetch/00000000-0000-4000-8000-000000000000")
        assert answer.status_code == 503
        assert f"shared store ({redis_url}) did not answer" in answer.json()["message"]
        assert "check that Redis is running" in answer.json()["message"]
        assert answer.headers["Retry-After"] == "1"
        await store.client.aclose()
        store.client = working


async def test_rules_armed_on_two_workers_at_once_get_fleet_wide_unique_ids(pair: tuple[Worker, Worker]) -> None:
    a, b = pair

    async def arm(worker: Worker) -> int:
        answer = await worker.client.post("/__mock/scenarios", json={"scenario": "fail", "count": 1})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    ids = await asyncio.gather(*(arm(worker) for worker in [a, b] * 10))
    assert len(set(ids)) == 20  # each replica numbering its own rules gave both 1, 2, 3, ...
    assert sorted(ids) == list(range(1, 21))


async def test_history_is_the_fleets_whichever_worker_answers(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    made = {await a.create("a fox on a"), await b.create("a fox on b")}
    advanced = await a.client.post("/__mock/clock/advance", json={"seconds": 120})
    assert advanced.status_code == 200, advanced.text
    seen = [(await w.client.get("/api/v1/nova/images", params={"size": 100})).json() for w in (a, b, a, b)]
    assert {image["id"] for image in seen[0]["images"]} == made
    assert all(answer == seen[0] for answer in seen)


async def test_the_credits_scenario_remembers_what_it_set_fleet_wide(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    scenario = {"X-Mock-Scenario": "credits:100"}

    async def credits(worker: Worker, headers: dict[str, str] | None = None) -> int:
        info = await worker.client.get("/api/v1/subscription/account-info", headers=headers)
        return int(info.json()["credits"])

    assert await credits(a, scenario) == 100
    made = await a.client.post("/api/v1/nova/imagine", json={"prompt": "a fox"}, headers=scenario)
    assert made.status_code == 200, made.text
    spent = await credits(a)
    assert spent < 100
    # The same header through the other worker: spent stays spent (per-worker memory set 100 again there).
    assert await credits(b, scenario) == spent
    assert await credits(a, scenario) == spent


async def test_the_creates_of_one_turn_share_one_script_call_and_keep_their_order(pair: tuple[Worker, Worker]) -> None:
    a, _ = pair
    store = a.svc.store
    assert isinstance(store, RedisStore)
    before = store.creates.batches.calls
    jobs = await asyncio.gather(*(store.submit("k", Timing(10), {"kind": "imagine", "timeout": 900}) for _ in range(6)))
    assert store.creates.batches.calls == before + 1
    assert [j.message_id for j in jobs] == [a.svc.jobs.ids.nth(n) for n in range(1, 7)]
    assert jobs[4].plan.starts_at == jobs[0].plan.ends_at  # 4 slots: the fifth queues behind the first
    assert jobs[5].plan.starts_at == jobs[1].plan.ends_at


HOOK = "http://127.0.0.1:9/hook"  # never contacted: the jobs' webhooks fall due 10 s of mock time later


async def _outbox(store: RedisStore) -> list[str]:
    return [str(m) for m in await store.client.zrange(store.outbox.key, 0, -1)]


async def test_a_job_and_its_webhook_plan_are_written_together_when_the_creator_lives(redis_url: str) -> None:
    async with Worker(redis_url, VirtualClock(start=1_750_000_000.0), webhook_url=HOOK) as a:
        store = a.svc.store
        assert isinstance(store, RedisStore)
        await a.create()
        assert len(await _outbox(store)) == 1  # the final event
        assert await store.client.zcard(store.key("unplanned")) == 0
        assert await store.creates.sweep(age_ms=0) == 0


async def test_a_job_whose_creator_died_before_planning_is_planned_once_by_another_worker(redis_url: str) -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    async with Worker(redis_url, clock, webhook_url=HOOK) as a, Worker(redis_url, clock, webhook_url=HOOK) as b:
        store_a, store_b = a.svc.store, b.svc.store
        assert isinstance(store_a, RedisStore)
        assert isinstance(store_b, RedisStore)
        lost: list[tuple[str, list[Planned]]] = []

        async def die(plan: tuple[str, list[Planned]]) -> None:  # the crash window: created, deliveries not written
            lost.append(plan)

        store_a.creates.plans = die  # type: ignore[assignment]
        message_id = await a.create()
        assert await _outbox(store_b) == []
        assert await store_b.client.zscore(store_b.key("unplanned"), message_id) is not None
        assert await store_b.creates.sweep() == 0  # younger than the lease: its creator may still be planning it

        assert await store_b.creates.sweep(age_ms=0) == 1
        planned = await _outbox(store_b)
        assert len(planned) == 1
        assert await store_b.client.zcard(store_b.key("unplanned")) == 0
        await store_b.outbox.done(planned[0], message_id)  # sent
        # The creator's own write, had it come late, finds the mark gone: the webhook is not sent a second time.
        [(late_id, late)] = lost
        assert late_id == message_id
        assert [p.delivery_id for p in late] == planned
        await store_b.creates._plan_batch(lost)
        assert await _outbox(store_b) == []
        assert await store_b.client.hlen(store_b.outbox.records) == 0


async def test_a_create_whose_plan_write_fails_still_answers_and_a_sweep_plans_it_later(redis_url: str) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    async with Worker(redis_url, VirtualClock(start=1_750_000_000.0), webhook_url=HOOK) as a:
        store = a.svc.store
        assert isinstance(store, RedisStore)
        writes = store.creates.plans

        async def unreachable(plan: tuple[str, list[Planned]]) -> None:
            raise RedisConnectionError("Redis went away between the two steps")

        store.creates.plans = unreachable  # type: ignore[assignment]
        message_id = await a.create()  # the job exists: the client gets its id, not a 503
        assert await _outbox(store) == []
        store.creates.plans = writes
        assert await store.creates.sweep(age_ms=0) == 1
        assert len(await _outbox(store)) == 1
        assert (await a.client.get(f"/api/v1/message/fetch/{message_id}")).status_code == 200


async def test_a_sweep_drops_the_mark_of_a_job_that_is_gone_or_forced(redis_url: str) -> None:
    async with Worker(redis_url, VirtualClock(start=1_750_000_000.0), webhook_url=HOOK) as a:
        store = a.svc.store
        assert isinstance(store, RedisStore)

        async def die(plan: tuple[str, list[Planned]]) -> None:  # created, never planned
            return None

        store.creates.plans = die  # type: ignore[assignment]
        forced = await a.create()
        answer = await a.client.post(f"/__mock/jobs/{forced}/force", json={"status": "FAIL"})
        assert answer.status_code == 200, answer.text  # the forced state planned what follows it (one final)
        await store.client.zadd(store.key("unplanned"), {"00000000-0000-4000-8000-000000000000": 1})
        planned = await _outbox(store)
        assert await store.creates.sweep(age_ms=0) == 2
        assert await store.client.zcard(store.key("unplanned")) == 0
        assert await _outbox(store) == planned  # nothing planned a second time
