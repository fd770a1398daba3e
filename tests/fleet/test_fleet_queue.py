"""Per-key FIFO slots are claimed atomically fleet-wide: one slot, many creates at once on two replicas."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime
from functools import partial

from fleet_harness import Fleet, concurrently, create_fresh

JOBS = 12
JOB_SECONDS = 30.0


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_one_slot_is_shared_by_every_replica(fleet: Fleet) -> None:
    a, b = fleet.start(2, "--concurrency", "1", "--job-seconds", str(JOB_SECONDS))
    replicas = [a if i % 2 == 0 else b for i in range(JOBS)]

    responses = concurrently([partial(create_fresh, r, f"slot {i}") for i, r in enumerate(replicas)])
    assert [r.status_code for r in responses] == [200] * JOBS, [r.text for r in responses if r.status_code != 200]
    ids = [r.json()["messageId"] for r in responses]
    assert len(set(ids)) == JOBS

    a.admin_ok("POST", "/clock/freeze")  # so "at any time" is one instant for all the reads below
    # Each replica's first look at half of these jobs (made on the other one) is through the admin API.
    plans = {i: a.admin_ok("GET", f"/jobs/{i}")["plan"] for i in ids}
    assert {i: b.admin_ok("GET", f"/jobs/{i}")["plan"] for i in ids} == plans
    for replica in (a, b):
        statuses = Counter(replica.message(i)["status"] for i in ids)
        assert statuses == Counter({"PROCESSING": 1, "QUEUED": JOBS - 1}), (replica, statuses)

    starts = sorted((parse_time(plan["startsAt"]), i) for i, plan in plans.items())
    shown = sorted(plan["startsAt"] for plan in plans.values())
    assert len({s for s, _ in starts}) == JOBS, f"two jobs share a slot: {shown}"
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(starts)]
    assert all(gap >= JOB_SECONDS - 0.002 for gap in gaps), gaps  # one after another, never overlapping

    # One job's worth later: the first is DONE, the second took the slot, the rest still wait.
    b.advance(JOB_SECONDS + 1)
    first, second = starts[0][1], starts[1][1]
    for replica in (a, b):
        seen = {i: replica.message(i)["status"] for i in ids}
        assert seen[first] == "DONE"
        assert seen[second] == "PROCESSING"
        assert Counter(seen.values()) == Counter({"DONE": 1, "PROCESSING": 1, "QUEUED": JOBS - 2}), (replica, seen)
