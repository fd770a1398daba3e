"""A webhook delivery survives the crash of the replica sending it: another replica takes over its lease.

Real time passes here (the lease expires on the wall clock), kept short with `--webhook-lease-s 1`.
"""

from __future__ import annotations

from typing import Any

from fleet_harness import Fleet, wait_until

from mock_server import WebhookReceiver, WebhookReply

LEASE_S = 1


def test_a_replica_takes_over_the_delivery_of_a_killed_one(fleet: Fleet) -> None:
    with WebhookReceiver(path="/hook") as receiver:
        receiver.reply(WebhookReply(hang=True))  # the first attempt hangs until released; later ones get 200
        args = (
            "--job-seconds",
            "0",
            "--webhook-url",
            receiver.url,
            "--webhook-lease-s",
            str(LEASE_S),
            "--webhook-timeout-s",
            "30",  # A must still be mid-delivery when it is killed
            "--webhook-backoff-s",
            "0.1",
        )
        (a,) = fleet.start(1, *args)
        message_id = a.create("delivered twice, once by a dead replica")

        [first] = receiver.wait_for(1, timeout=15.0)  # A is now mid-delivery: the receiver holds its request
        delivery_id = first.delivery_id
        assert delivery_id is not None, first.headers
        assert first.json["messageId"] == message_id

        (b,) = fleet.start(1, *args)  # only now: B cannot have claimed the delivery before A did
        a.kill()
        receiver.recorder.release()

        again = receiver.wait_for(2, predicate=lambda hook: hook.delivery_id == delivery_id, timeout=10.0 + 5 * LEASE_S)
        assert again[1].json["messageId"] == message_id
        assert again[1].json["status"] == "DONE"
        assert again[1].status == 200

        def taken_over() -> list[dict[str, Any]]:
            attempts: list[dict[str, Any]] = b.admin_ok("GET", f"/webhooks?deliveryId={delivery_id}")["attempts"]
            return [x for x in attempts if x["outcome"] == "delivered" and x.get("takeover", 0) >= 1]

        [attempt] = wait_until(taken_over, timeout=10.0, what=f"a delivered takeover attempt on {b}")
        assert attempt["deliveryId"] == delivery_id
        assert attempt["messageId"] == message_id
