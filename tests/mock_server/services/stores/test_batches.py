"""Batches: the calls of one event-loop turn share one send; later ones gather while it is in flight."""

from __future__ import annotations

import asyncio

import pytest

from mock_server.services.stores.batches import Batches

pytestmark = pytest.mark.anyio


class Sender:
    """Records each batch; a batch containing "boom" fails; `gate` holds a send in flight until set."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, items: list[str]) -> list[str]:
        self.batches.append(items)
        await self.gate.wait()
        if "boom" in items:
            raise ConnectionError("the store went away")
        return [item.upper() for item in items]


async def test_one_turns_items_share_a_send_and_each_gets_its_own_result() -> None:
    sender = Sender()
    batches = Batches(sender)
    assert await asyncio.gather(*(batches(x) for x in "abc")) == ["A", "B", "C"]
    assert sender.batches == [["a", "b", "c"]]
    assert batches.calls == 1


async def test_items_queued_during_a_send_go_together_in_the_next_and_the_limit_splits() -> None:
    sender = Sender()
    batches = Batches(sender, limit=2)
    sender.gate.clear()
    first = asyncio.ensure_future(batches("a"))
    await asyncio.sleep(0.01)  # "a" is in flight
    later = [asyncio.ensure_future(batches(x)) for x in "bcd"]
    await asyncio.sleep(0)
    sender.gate.set()
    assert await asyncio.gather(first, *later) == ["A", "B", "C", "D"]
    assert sender.batches == [["a"], ["b", "c"], ["d"]]


async def test_a_failed_send_fails_its_batch_only() -> None:
    sender = Sender()
    batches = Batches(sender)
    results = await asyncio.gather(batches("x"), batches("boom"), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    assert await batches("y") == "Y"  # the next batch is sent as usual


async def test_cancelling_the_sender_cancels_what_waits_instead_of_hanging() -> None:
    sender = Sender()
    batches = Batches(sender)
    sender.gate.clear()
    waiting = [asyncio.ensure_future(batches(x)) for x in "ab"]
    await asyncio.sleep(0.01)
    late = asyncio.ensure_future(batches("c"))
    await asyncio.sleep(0)
    assert batches._sender is not None
    batches._sender.cancel()
    results = await asyncio.gather(*waiting, late, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
