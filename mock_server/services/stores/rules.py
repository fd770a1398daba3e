"""Armed scenario rules in Redis: one hash field per rule, so rules armed through two workers at once are all kept.

A worker writes only its own changes (HSET of a rule armed here, HDEL of one it knew and no longer holds), and
every write bumps a version read back with the rules in the same transaction. Workers re-read the hash when
told (a ``rules`` change) and take a snapshot only if it is newer than the one they hold, so the last one
applied is always the fleet's latest. A counted rule's matches are counted in Redis (``rule:<id>``, DECR).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from mock_server.domain.scenarios.armed import Rule, make_rule
from mock_server.domain.scenarios.engine import ScenarioEngine

COUNT_TTL_S = 86_400  # a counted rule's fleet-wide count outlives any test run, not the database


class FleetRules:
    """The fleet's armed rules (admin API), kept in step with this worker's `ScenarioEngine`."""

    def __init__(self, client: aioredis.Redis, key: Callable[..., str], engine: ScenarioEngine) -> None:
        self.client = client
        self.engine = engine
        self.armed = key("rules", "armed")
        self.version_key = key("rules", "version")
        self.ids_key = key("rule-ids")
        self.count_key: Callable[[int], str] = lambda rule_id: key("rule", str(rule_id))
        self._ids: set[int] = set()  # the admin rules of the last snapshot taken (or written) here
        self._version = 0

    async def changed(self) -> None:
        """Write the rules armed or cleared on this worker since the last snapshot, then take the fleet's."""
        local = {r.id: r for r in self.engine.admin_rules()}
        added = [_record(r) for rule_id, r in local.items() if rule_id not in self._ids]
        removed = [str(rule_id) for rule_id in self._ids if rule_id not in local]
        self._ids = set(local)
        async with self.client.pipeline(transaction=True) as pipe:
            if added:
                pipe.hset(self.armed, mapping={str(r["id"]): orjson.dumps(r) for r in added})
            if removed:
                pipe.hdel(self.armed, *removed)
            for rule in added:
                if rule["count"] is not None:
                    pipe.set(self.count_key(rule["id"]), rule["count"], nx=True, ex=COUNT_TTL_S)
            pipe.incr(self.version_key)
            pipe.hgetall(self.armed)
            *_, version, records = await pipe.execute()
        self._take(int(version), records)

    async def load(self) -> None:
        """Take the fleet's rules (at start, and when another worker changed them)."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.version_key)
            pipe.hgetall(self.armed)
            version, records = await pipe.execute()
        self._take(int(version or 0), records)

    def _take(self, version: int, records: dict[str, str]) -> None:
        if version < self._version:
            return  # an older snapshot that arrived late
        self._version = version
        rules = sorted((orjson.loads(r) for r in records.values()), key=lambda r: int(r["id"]))
        self.engine.replace_admin_rules(_rules_from(rules))
        self._ids = {int(r["id"]) for r in rules}

    def forget(self) -> None:
        """After a reset: the hash and its version counter are gone."""
        self._ids, self._version = set(), 0

    async def next_id(self) -> int:
        """The next admin rule id of the whole fleet (INCR): two workers arming at once never share one."""
        return self.engine.file_rule_count + int(await self.client.incr(self.ids_key))

    async def count_file_rules(self, *, overwrite: bool) -> None:
        """Give the scenario file's counted rules their fleet-wide counts (again after a reset)."""
        for rule in self.engine.rules:
            if rule.source != "admin" and rule.remaining is not None:
                await self.client.set(self.count_key(rule.id), rule.remaining, nx=not overwrite, ex=COUNT_TTL_S)

    async def take(self, rule: Rule) -> bool:
        """Use one of the rule's matches fleet-wide."""
        return int(await self.client.decr(self.count_key(rule.id))) >= 0


def _record(rule: Rule) -> dict[str, Any]:
    regex = rule.prompt_regex.pattern if rule.prompt_regex is not None else None
    scenario = ",".join(s.text for s in rule.scenarios)
    return {"id": rule.id, "scenario": scenario, "count": rule.remaining, "promptRegex": regex}


def _rules_from(records: list[dict[str, Any]]) -> list[Rule]:
    return [
        make_rule(int(r["id"]), str(r["scenario"]), count=r["count"], prompt_regex=r["promptRegex"]) for r in records
    ]
