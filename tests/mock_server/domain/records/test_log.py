"""BoundedLog: bounded, filtered reads, blocking and async waiting, and subscriptions."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import pytest

from mock_server.domain.records.log import BoundedLog


@dataclass(frozen=True)
class Entry:
    seq: int
    text: str


def filled(n: int, maxlen: int = 10) -> BoundedLog[Entry]:
    log: BoundedLog[Entry] = BoundedLog(maxlen)
    for _ in range(n):
        seq = log.next_seq()
        log.append(Entry(seq, f"e{seq}"))
    return log


def test_bounded_oldest_drop_out_and_since_filters() -> None:
    log = filled(15, maxlen=10)
    assert len(log) == 10
    assert [e.seq for e in log] == list(range(6, 16))
    assert [e.seq for e in log.entries(since=13)] == [14, 15]
    assert [e.text for e in log.entries(lambda e: e.seq % 5 == 0)] == ["e10", "e15"]
    assert log.count(lambda e: e.seq > 12) == 3


def test_materialise_builds_records_only_when_read() -> None:
    built: list[int] = []

    def build(raw: tuple[int, str]) -> Entry:
        built.append(raw[0])
        return Entry(*raw)

    log: BoundedLog[Entry] = BoundedLog(5, build)
    log.append((1, "raw"))
    assert built == []
    assert log.entries() == [Entry(1, "raw")]
    assert built == [1]


def test_clear_restarts_numbering() -> None:
    log = filled(3)
    log.clear()
    assert (len(log), log.next_seq()) == (0, 1)


def test_wait_for_wakes_on_append_from_another_thread() -> None:
    log = filled(1)
    timer = threading.Timer(0.05, lambda: log.append(Entry(log.next_seq(), "late")))
    timer.start()
    try:
        found = log.wait_for(2, timeout=5)
    finally:
        timer.cancel()
    assert [e.text for e in found] == ["e1", "late"]


def test_wait_for_times_out_saying_how_many() -> None:
    log = filled(1)
    with pytest.raises(TimeoutError, match=r"1 matching entries within 0\.01 s; expected 2"):
        log.wait_for(2, timeout=0.01)


@pytest.mark.anyio
async def test_await_for_and_subscription() -> None:
    log = filled(1)
    with log.subscribe(maxsize=10) as subscription:

        async def later() -> None:
            await asyncio.sleep(0)
            log.append(Entry(log.next_seq(), "new"))

        task = asyncio.create_task(later())
        found = await log.await_for(2, timeout=5)
        await task
        assert [e.text for e in found] == ["e1", "new"]
        assert (await subscription.get(timeout=1)).text == "new"  # subscribers see only what came after
    assert log._subscribers == []


@pytest.mark.anyio
async def test_await_for_times_out() -> None:
    log = filled(0)
    with pytest.raises(TimeoutError, match="0 matching entries"):
        await log.await_for(1, timeout=0.01)


@pytest.mark.anyio
async def test_slow_subscriber_loses_the_oldest_and_counts_them() -> None:
    log = filled(0)
    subscription = log.subscribe(maxsize=2)
    for i in range(5):
        log.append(Entry(i + 1, f"e{i + 1}"))
    assert subscription.dropped == 3
    got = [await subscription.get(timeout=1) for _ in range(2)]
    assert [e.text for e in got] == ["e4", "e5"]
    subscription.close()


@pytest.mark.anyio
async def test_subscription_iterates_and_appends_from_threads_arrive() -> None:
    log = filled(0)
    with log.subscribe() as subscription:
        thread = threading.Thread(target=lambda: log.append(Entry(1, "from thread")))
        thread.start()
        thread.join()
        async for entry in subscription:
            assert entry.text == "from thread"
            break
    assert log._subscribers == []
