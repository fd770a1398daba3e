"""FleetRules: armed rules as one hash field each, so arms through two workers at the same instant are all kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from mock_server.domain.scenarios.engine import ScenarioEngine
from mock_server.services.stores.rules import FleetRules

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    redis = aioredis.from_url(redis_url, decode_responses=True)
    yield redis
    await redis.aclose()


def _worker(client: aioredis.Redis) -> FleetRules:
    return FleetRules(client, lambda *parts: "fm:" + ":".join(parts), ScenarioEngine(seed=1))


def _armed(rules: FleetRules) -> list[tuple[int, str]]:
    return [(r.id, ",".join(s.text for s in r.scenarios)) for r in rules.engine.admin_rules()]


async def test_rules_armed_on_two_workers_at_once_are_both_kept_and_a_clear_clears_what_it_knew(
    client: aioredis.Redis,
) -> None:
    a, b = _worker(client), _worker(client)
    await asyncio.gather(a.load(), b.load())
    a.engine.arm("fail", rule_id=await a.next_id())
    b.engine.arm("stall", count=2, rule_id=await b.next_id())
    await asyncio.gather(a.changed(), b.changed())  # both write before either hears of the other
    await asyncio.gather(a.load(), b.load())
    assert _armed(a) == _armed(b) == [(1, "fail"), (2, "stall")]
    assert await client.get("fm:rule:2") == "2"  # the counted rule's fleet-wide count

    b.engine.arm("timeout", rule_id=await b.next_id())  # armed on b, not yet known to a
    a.engine.clear()
    await asyncio.gather(a.changed(), b.changed())
    await asyncio.gather(a.load(), b.load())
    assert _armed(a) == _armed(b) == [(3, "timeout")]  # a cleared the rules it knew; b's new one stays


async def test_an_older_snapshot_arriving_late_is_ignored(client: aioredis.Redis) -> None:
    a = _worker(client)
    a.engine.arm("fail", rule_id=await a.next_id())
    await a.changed()
    a._take(0, {})  # a snapshot read before the write, answered after it
    assert _armed(a) == [(1, "fail")]
    a.forget()  # after a reset the version restarts: the next snapshot is taken whatever its number
    a._take(0, {})
    assert _armed(a) == []


async def test_a_counted_rule_is_taken_fleet_wide_until_used_up(client: aioredis.Redis) -> None:
    a, b = _worker(client), _worker(client)
    rule = a.engine.arm("fail", count=2, rule_id=await a.next_id())
    await a.changed()
    assert [await a.take(rule), await b.take(rule), await a.take(rule)] == [True, True, False]
