"""One request journal and one webhook journal for the fleet, readable on any replica."""

from __future__ import annotations

from functools import partial
from typing import Any

from fleet_harness import Fleet, Replica, unknown_id, wait_until

from mock_server import WebhookReceiver

JOBS = 4


def test_the_request_journal_lists_every_replicas_requests_in_arrival_order(pair: tuple[Replica, Replica]) -> None:
    a, b = pair

    made: list[tuple[str, str, int]] = []
    for i in range(JOBS):
        creator, poller = (a, b) if i % 2 == 0 else (b, a)
        message_id = creator.create(f"journal {i}")
        made.append(("POST", "/api/v1/flux/imagine", 200))
        path = f"/api/v1/midjourney/message/{message_id}"
        assert poller.api("GET", path).status_code == 200
        made.append(("GET", path, 200))
    missing = f"/api/v1/message/fetch/{unknown_id()}"
    assert b.api("GET", missing).status_code == 404
    made.append(("GET", missing, 404))

    journals: list[list[dict[str, Any]]] = [r.admin_ok("GET", "/requests") for r in (a, b)]
    assert journals[0] == journals[1]
    entries = [e for e in journals[0] if e["path"].startswith("/api/")]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == made
    seqs = [e["seq"] for e in entries]
    assert seqs == sorted(seqs), seqs
    assert len(set(seqs)) == len(seqs), seqs
    ats = [e["at"] for e in entries]
    assert ats == sorted(ats), ats


def test_the_webhook_journal_lists_each_delivery_once_on_every_replica(fleet: Fleet) -> None:
    with WebhookReceiver(path="/hook") as receiver:
        a, b = fleet.start(2, "--job-seconds", "0", "--webhook-url", receiver.url)
        ids = {(a if i % 2 == 0 else b).create(f"hook {i}") for i in range(JOBS)}

        receiver.wait_for(JOBS, timeout=15.0)

        def delivered(replica: Replica) -> list[dict[str, Any]]:
            """The delivered attempts once there are JOBS of them, else [] (not yet)."""
            attempts: list[dict[str, Any]] = replica.admin_ok("GET", "/webhooks")["attempts"]
            done = [x for x in attempts if x["outcome"] == "delivered"]
            return done if len(done) >= JOBS else []

        for replica in (a, b):
            done = wait_until(partial(delivered, replica), timeout=10.0, what=f"{JOBS} delivered on {replica}")
            assert {x["messageId"] for x in done} == ids, done
            assert len(done) == JOBS, done
            assert len({x["deliveryId"] for x in done}) == JOBS, done  # each delivery once
            assert all(x["payload"]["status"] == "DONE" for x in done if isinstance(x.get("payload"), dict))

        arrivals = receiver.arrivals
        assert len(arrivals) == JOBS, [(h.delivery_id, h.attempt) for h in arrivals]  # one replica sent each
        assert {h.json["messageId"] for h in arrivals} == ids
