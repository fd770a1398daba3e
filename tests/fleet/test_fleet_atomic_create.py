"""One atomic create (issue 19): a worker SIGKILLed between writing a job and writing its webhook plan loses nothing.

Replica A runs with a test-only hook (`FLUXMOCK_TEST_CRASH_AFTER_CREATE=1`) that kills it with SIGKILL right after
the create script wrote a job with a webhook target, before its deliveries reach the outbox. Replica B's sweep
finds the job still marked unplanned after the lease and plans it: the receiver gets the webhook exactly once.
Real time passes here (the mark's age is Redis's wall clock), kept short with `--webhook-lease-s 1`.
"""

from __future__ import annotations

import signal

import httpx
import pytest
import redis
from fleet_harness import Fleet, wait_until

from mock_server import WebhookReceiver

LEASE_S = 1


def test_a_job_created_by_a_worker_killed_before_planning_its_webhook_is_delivered_once(fleet: Fleet) -> None:
    with WebhookReceiver(path="/hook") as receiver:
        args = ("--job-seconds", "0", "--webhook-url", receiver.url, "--webhook-lease-s", str(LEASE_S))
        a = fleet.launch(*args, env={"FLUXMOCK_TEST_CRASH_AFTER_CREATE": "1"})
        (b,) = fleet.start(1, *args)
        a.wait_ready()

        with pytest.raises(httpx.TransportError):  # A dies mid-request: no answer
            a.create("created, then the worker died")
        assert a.proc is not None
        assert a.proc.wait(timeout=10) == -signal.SIGKILL, a.log_tail()

        [job] = b.admin_ok("GET", "/jobs")  # the job was written: the create script is one step
        message_id = job["messageId"]
        [hook] = receiver.wait_for(1, timeout=10.0 + 5 * LEASE_S)  # planned by B's sweep, sent by B
        assert hook.json["messageId"] == message_id
        assert hook.json["status"] == "DONE"

        shared = redis.Redis.from_url(fleet.store, decode_responses=True)
        try:
            # Nothing left to plan or send: no second delivery can come.
            wait_until(
                lambda: shared.zcard("fm:unplanned") == 0 and shared.zcard("fm:outbox") == 0,
                timeout=10.0,
                what="the outbox and the unplanned marks to empty",
            )
        finally:
            shared.close()
        assert [h.json["messageId"] for h in receiver.arrivals] == [message_id]
        attempts = b.admin_ok("GET", f"/webhooks?messageId={message_id}")["attempts"]
        assert [x["outcome"] for x in attempts] == ["delivered"], attempts


def test_without_a_crash_every_created_jobs_webhook_arrives_once(fleet: Fleet) -> None:
    with WebhookReceiver(path="/hook") as receiver:
        a, b = fleet.start(2, "--job-seconds", "0", "--webhook-url", receiver.url)
        made = [r.create(f"job {i}") for i, r in enumerate([a, b] * 5)]
        receiver.wait_for(len(made), timeout=20.0)
        assert sorted(h.json["messageId"] for h in receiver.arrivals) == sorted(made)
