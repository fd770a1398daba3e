"""The fleet's request journal in Redis: written at once for a lone client, gathered while requests are answered."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import Settings, VirtualClock, create_app
from mock_server.services.stores.journals import BUSY_COUNT, GATHER_MAX, GATHER_S, FleetJournals
from mock_server.services.stores.redis import RedisStore

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def workers(redis_url: str, count: int, journal_size: int = 10_000) -> AsyncIterator[list[RedisStore]]:
    """`count` workers' stores on the test's Redis, started (and closed after)."""
    settings = Settings(seed=1, api_keys=("sk-test",), store=redis_url, journal_size=journal_size)
    stores = [create_app(settings, clock=VirtualClock()).state.services.store for _ in range(count)]
    for store in stores:
        await store.start()
    try:
        yield stores
    finally:
        for store in stores:
            await store.aclose()


@pytest.fixture
async def journals(redis_url: str) -> AsyncIterator[FleetJournals]:
    async with workers(redis_url, 1) as (store,):
        yield store.journals


def record(journals: FleetJournals, count: int = 1, at: int = 0) -> None:
    """`count` answered requests at `at` seconds past a fixed instant, each with the path ``/<at>``."""
    journal = journals.journal
    for _ in range(count):
        journal.record(journal.next_seq(), 1_750_000_000.0 + at, "GET", f"/{at}", b"", 404, 0.1, {})


async def written(journals: FleetJournals) -> int:
    return int(await journals.client.llen(journals.keys("requests")[0]))


async def settle() -> None:
    for _ in range(20):  # loop turns: the writer's script call goes out and comes back (no time passes here)
        await asyncio.sleep(0)


async def wait_written(journals: FleetJournals, count: int) -> None:
    async with asyncio.timeout(5):
        while await written(journals) < count:
            await asyncio.sleep(0.001)


async def test_an_entry_is_written_at_once_when_no_other_request_is_being_answered(journals: FleetJournals) -> None:
    record(journals, 1)
    assert journals._timer is None
    assert journals._wanted is not None
    assert journals._wanted.is_set()
    await wait_written(journals, 1)


async def test_entries_gather_while_requests_are_answered_and_go_in_one_write(journals: FleetJournals) -> None:
    calls: list[int] = []
    append = journals.pipe.append

    async def counting(key: str, counter: str, size: int, items: Any) -> None:
        calls.append(len(items))
        await append(key, counter, size, items)

    journals.pipe.append = counting  # type: ignore[method-assign]
    journals.gather_s = 60.0  # so that no timer fires while this test looks
    journals.journal.open = 2  # two requests still being answered here
    record(journals, 10)
    await settle()
    assert calls == []
    assert await written(journals) == 0
    timer = journals._timer
    assert timer is not None
    assert timer.when() > asyncio.get_running_loop().time() + 30
    journals.journal.open = 0  # the last request answered, and the worker quiet since: the entry takes the ten along
    journals._window = (0.0, 0)
    record(journals, 1)
    await wait_written(journals, 11)
    assert calls == [11]
    assert journals._timer is None
    assert timer.cancelled()


async def test_a_worker_answering_many_requests_gathers_their_entries(journals: FleetJournals) -> None:
    journals.gather_s, journals.busy_s = 60.0, 60.0  # every entry of this test falls in one busy window
    record(journals, BUSY_COUNT)
    assert journals._timer is None  # a quiet worker's entries go at once
    await wait_written(journals, BUSY_COUNT)
    record(journals, 3)  # more than BUSY_COUNT in the window: busy, so these gather
    await settle()
    assert await written(journals) == BUSY_COUNT
    assert journals._timer is not None


async def test_gathered_entries_are_written_within_the_gathering_time(journals: FleetJournals) -> None:
    assert GATHER_S <= 0.01
    journals.journal.open = 1
    record(journals, 3)
    assert journals._timer is not None  # gathering; nothing else will wake the writer
    await wait_written(journals, 3)


async def test_a_full_batch_is_written_at_once_however_busy(journals: FleetJournals) -> None:
    journals.journal.open = 5
    record(journals, GATHER_MAX)
    assert journals._timer is None
    assert journals._wanted is not None
    assert journals._wanted.is_set()
    await wait_written(journals, GATHER_MAX)


async def test_a_fleet_read_writes_what_is_gathering(journals: FleetJournals) -> None:
    journals.gather_s = 60.0  # no timer fires while this test looks
    journals.journal.open = 1
    record(journals, 3)
    assert await written(journals) == 0
    assert len(await journals.read("requests")) == 3


async def test_sequence_numbers_follow_arrival_however_late_a_worker_writes(redis_url: str) -> None:
    async with workers(redis_url, 2, journal_size=5) as stores:
        late, early = (store.journals for store in stores)
        late.gather_s = 60.0
        late.journal.open = 1  # busy: its entries wait
        for at, journals in ((1, late), (2, early), (3, late), (4, early)):
            record(journals, at=at)
            await settle()
        await wait_written(early, 2)  # the second worker's two entries are in before the first's
        entries = await early.read("requests")
        assert [e["path"] for e in entries] == [f"/{at}" for at in (1, 2, 3, 4)]  # in arrival order
        assert [e["seq"] for e in entries] == [1, 2, 3, 4]
        assert [e["seq"] for e in await late.read("requests", 2)] == [3, 4]
        late.journal.open = 0
        for at in (5, 6, 7):  # the journal keeps 5: the two written first go, the numbers stay
            record(late, at=at)
        entries = await early.read("requests")
        assert [(e["path"], e["seq"]) for e in entries] == [(f"/{at}", at) for at in (3, 4, 5, 6, 7)]
        assert await early.client.llen(early.keys("requests")[0]) == 7  # the slack holds the two beyond the size
        assert (await stores[1].counts())["requests"] == 5


@pytest.fixture
async def two_workers(redis_url: str) -> AsyncIterator[tuple[FleetJournals, FleetJournals]]:
    """Two workers' journals on one Redis, writing only when a test flushes them."""
    async with workers(redis_url, 2) as stores:
        first, second = (store.journals for store in stores)
        for journals in (first, second):
            journals.gather_s = 3600.0  # nothing is written but by `flush`
            journals.journal.open = 1
        yield first, second


# A step: a request arrives at worker 0 or 1 (its entry waits there), or worker 0 or 1 writes what it holds.
STEPS = st.lists(st.tuples(st.sampled_from(["arrive", "write"]), st.integers(0, 1)), min_size=1, max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS, tail=st.integers(1, 10))
async def test_whatever_order_the_workers_write_in_entries_are_numbered_by_arrival(
    two_workers: tuple[FleetJournals, FleetJournals], steps: list[tuple[str, int]], tail: int
) -> None:
    await two_workers[0].client.flushdb()
    arrived = 0
    for step, worker in steps:
        if step == "arrive":
            arrived += 1
            record(two_workers[worker], at=arrived)
        else:
            await two_workers[worker].flush()
    entries = await two_workers[1].read("requests")  # the read has every worker write what it holds first
    assert [(e["path"], e["seq"]) for e in entries] == [(f"/{at}", at) for at in range(1, arrived + 1)]
    newest = await two_workers[0].read("requests", tail)
    assert [(e["path"], e["seq"]) for e in newest] == [(e["path"], e["seq"]) for e in entries[-tail:]]
