"""One clock and one set of armed scenario rules for the whole fleet; admin changes land on every replica."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest
from fleet_harness import POLL_PATHS, Replica, concurrently, create_fresh


def test_the_clock_is_one_clock(pair: tuple[Replica, Replica]) -> None:
    a, b = pair  # 10 s jobs

    before = b.clock()["offset"]
    a.advance(5)
    on_b, on_a = b.clock(), a.clock()
    assert on_b["offset"] == on_a["offset"]
    assert on_b["offset"] == pytest.approx(before + 5)

    message_id = a.create()
    assert b.message(message_id)["status"] == "PROCESSING"
    a.advance(11)
    for path in POLL_PATHS:
        assert b.message(message_id, path)["status"] == "DONE"

    b.admin_ok("POST", "/clock/freeze")
    first, second = a.clock(), a.clock()
    assert first["frozen"] is True
    assert first["epoch"] == second["epoch"]
    assert b.clock()["epoch"] == first["epoch"]

    a.admin_ok("POST", "/clock/unfreeze")
    assert b.clock()["frozen"] is False


def test_an_armed_rule_shapes_exactly_one_job_fleet_wide(pair: tuple[Replica, Replica]) -> None:
    a, b = pair

    rule = a.admin_ok("POST", "/scenarios", json={"scenario": "fail", "count": 1})
    assert [r["id"] for r in b.admin_ok("GET", "/scenarios")["armed"]] == [rule["id"]]

    replicas = [a if i % 2 == 0 else b for i in range(10)]
    responses = concurrently([partial(create_fresh, r, f"rule {i}") for i, r in enumerate(replicas)])
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses if r.status_code != 200]
    ids = [r.json()["messageId"] for r in responses]

    b.advance(40)  # 10 jobs of 10 s on 4 slots: all finished by 30 s, none past the 60 s TTL
    for replica in (a, b):
        statuses = Counter(replica.message(i)["status"] for i in ids)
        assert statuses == Counter({"FAIL": 1, "DONE": 9}), (replica, statuses)
    assert a.admin_ok("GET", "/scenarios")["armed"] == []
