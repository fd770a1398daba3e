"""Rules armed at the same instant through different replicas are all kept (issue 19): one hash field per rule.

Two `flux-mock serve --store redis://...` processes; the arms are released together by a barrier, half through
each, each over a fresh connection.
"""

from __future__ import annotations

from functools import partial

import httpx
from fleet_harness import Replica, concurrently

RULES = 12


def arm(replica: Replica, i: int) -> httpx.Response:
    body = {"scenario": "fail", "prompt_regex": f"^rule {i}$"}
    with httpx.Client(base_url=replica.url, timeout=10) as client:
        return client.post("/__mock/scenarios", json=body)


def test_rules_armed_concurrently_through_both_replicas_are_all_listed_and_all_apply(
    pair: tuple[Replica, Replica],
) -> None:
    a, b = pair
    replicas = [a if i % 2 == 0 else b for i in range(RULES)]
    answers = concurrently([partial(arm, r, i) for i, r in enumerate(replicas)])
    assert [r.status_code for r in answers] == [201] * RULES, [r.text for r in answers if r.status_code != 201]
    armed = {r.json()["id"]: r.json()["prompt_regex"] for r in answers}
    assert len(armed) == RULES  # fleet-wide unique ids

    for replica in (a, b):
        listed = {r["id"]: r["prompt_regex"] for r in replica.admin_ok("GET", "/scenarios")["armed"]}
        assert listed == armed, (replica, sorted(set(armed) - set(listed)))

    # Each rule applies through either replica; a prompt no rule names follows the default (DONE).
    made = {r.create(f"rule {i}"): "FAIL" for i, r in enumerate(reversed(replicas))}
    made[a.create("no rule names this")] = "DONE"
    b.advance(45)  # 13 jobs of 10 s on 4 slots: all ended within 40 s, none past the 60 s TTL
    for replica in (a, b):
        statuses = {message_id: replica.message(message_id)["status"] for message_id in made}
        assert statuses == made, replica

    # Clearing through one replica clears the fleet's.
    assert a.admin_ok("DELETE", "/scenarios")["cleared"] == RULES
    for replica in (a, b):
        assert replica.admin_ok("GET", "/scenarios")["armed"] == []
