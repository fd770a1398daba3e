"""Tests for mock_server.services.scheduler: timers fire on clock jumps (same thread or another) and on real time."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mock_server import SystemClock, VirtualClock
from mock_server.services.scheduler import Scheduler

pytestmark = pytest.mark.anyio


async def test_timer_fires_when_virtual_clock_jumps_past_it() -> None:
    clock = VirtualClock(start=100.0)
    scheduler = Scheduler(clock)
    fired: list[float] = []
    scheduler.call_at(105.0, lambda: fired.append(clock.now()))
    scheduler.start()
    clock.advance(4.9)
    assert fired == []
    clock.advance(0.1)
    assert fired == [105.0]  # fired inside advance(): no sleep, no loop turn needed
    await scheduler.aclose()


async def test_due_timers_fire_in_time_order_and_chained_timers_in_the_same_pass() -> None:
    clock = VirtualClock(start=0.0)
    scheduler = Scheduler(clock)
    scheduler.start()
    order: list[str] = []
    scheduler.call_at(3.0, lambda: order.append("c"))
    scheduler.call_at(1.0, lambda: (order.append("a"), scheduler.call_at(2.0, lambda: order.append("b"))))
    clock.advance(10)
    assert order == ["a", "b", "c"]
    await scheduler.aclose()


async def test_cancelled_timer_does_not_fire_and_next_due_skips_it() -> None:
    clock = VirtualClock(start=0.0)
    scheduler = Scheduler(clock)
    scheduler.start()
    fired: list[int] = []
    timer = scheduler.call_at(1.0, lambda: fired.append(1))
    scheduler.call_at(2.0, lambda: fired.append(2))
    timer.cancel()
    assert scheduler.next_due() == 2.0
    assert len(scheduler) == 1
    clock.advance(5)
    assert fired == [2]
    await scheduler.aclose()


async def test_a_failing_callback_does_not_stop_the_others(caplog: pytest.LogCaptureFixture) -> None:
    clock = VirtualClock(start=0.0)
    scheduler = Scheduler(clock)
    scheduler.start()
    fired: list[int] = []

    def broken() -> None:
        raise RuntimeError("boom")

    scheduler.call_at(1.0, broken)
    scheduler.call_at(1.0, lambda: fired.append(1))
    clock.advance(1)
    assert fired == [1]
    assert "boom" in caplog.text
    await scheduler.aclose()


async def test_sleep_resolves_on_virtual_time() -> None:
    clock = VirtualClock(start=0.0)
    scheduler = Scheduler(clock)
    scheduler.start()
    future = scheduler.sleep(30)
    await asyncio.sleep(0)
    assert not future.done()
    clock.advance(30)
    await asyncio.wait_for(future, 1)
    await scheduler.aclose()


async def test_jump_from_another_thread_fires_on_the_loop_thread() -> None:
    clock = VirtualClock(start=0.0)
    scheduler = Scheduler(clock)
    scheduler.start()
    loop_thread = threading.get_ident()
    done = asyncio.Event()
    seen: list[int] = []

    def callback() -> None:
        seen.append(threading.get_ident())
        done.set()

    scheduler.call_at(5.0, callback)
    await asyncio.to_thread(clock.advance, 5)
    assert seen == [loop_thread]  # advance() in the other thread returned only after the loop fired it
    assert done.is_set()
    await scheduler.aclose()


async def test_timer_due_now_fires_on_the_next_loop_turn_not_inside_call_at() -> None:
    clock = VirtualClock(start=0.0)
    scheduler = Scheduler(clock)
    scheduler.start()
    fired: list[int] = []
    scheduler.call_at(0.0, lambda: fired.append(1))
    assert fired == []  # never re-entrant inside the caller (e.g. inside JobStore.submit)
    for _ in range(5):
        await asyncio.sleep(0)
    assert fired == [1]
    await scheduler.aclose()


async def test_binds_lazily_to_the_running_loop_without_start() -> None:
    clock = VirtualClock(start=0.0)
    scheduler = Scheduler(clock)
    fired: list[int] = []
    scheduler.call_at(2.0, lambda: fired.append(1))  # binds here (no lifespan in in-process tests)
    clock.advance(2)
    assert fired == [1]
    await scheduler.aclose()


async def test_timers_fire_when_real_time_passes_on_a_system_clock() -> None:
    clock = SystemClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    done = asyncio.Event()
    scheduler.call_later(0.05, done.set)
    await asyncio.wait_for(done.wait(), 2)  # bounded: fails instead of hanging if the sleeper is broken
    await scheduler.aclose()


async def test_system_clock_advance_fires_far_timers_at_once() -> None:
    clock = SystemClock()
    scheduler = Scheduler(clock)
    scheduler.start()
    fired: list[int] = []
    scheduler.call_later(3600, lambda: fired.append(1))
    clock.advance(3600)
    assert fired == [1]
    await scheduler.aclose()


def test_timers_added_without_a_loop_wait_for_one() -> None:
    clock = VirtualClock(start=0.0)
    scheduler = Scheduler(clock)
    fired: list[int] = []
    scheduler.call_at(1.0, lambda: fired.append(1))
    clock.advance(5)  # no loop bound: nothing can run yet, nothing is lost either
    assert fired == []
    assert scheduler.next_due() == 1.0

    async def later() -> None:
        scheduler.start()
        for _ in range(5):
            await asyncio.sleep(0)
        await scheduler.aclose()

    asyncio.run(later())
    assert fired == [1]
