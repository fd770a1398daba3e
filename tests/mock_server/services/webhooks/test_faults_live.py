"""Each webhook fault does what it says, end to end: header per job and server-wide setting."""

from __future__ import annotations

import pytest
from webhook_support import SECRET, Serve, until

from mock_server import WebhookReceiver


def test_drop_sends_nothing_but_journals_it(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    message_id = live.create({"prompt": "x", "webhookOverride": receiver.url}, fault="drop")
    live.clock.advance(3)
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    assert (entry.outcome, entry.attempt, entry.faults) == ("dropped", 0, ("drop",))
    until(lambda: live.svc.webhooks.dispatcher.pending == 0, what="idle dispatcher")
    assert receiver.arrivals == []


def test_delay_holds_the_delivery_for_n_seconds_of_mock_time(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    live.create({"prompt": "x", "webhookOverride": receiver.url}, fault="delay=5")
    live.clock.advance(3)  # DONE now; the webhook waits 5 s more
    until(lambda: live.svc.scheduler.next_due() is not None, what="delay timer")
    assert live.svc.scheduler.next_due() == pytest.approx(live.clock.now() + 5)
    live.clock.advance(4.9)
    assert receiver.arrivals == []
    live.clock.advance(0.1)
    [hook] = receiver.wait_for(1)
    assert hook.json["status"] == "DONE"


def test_duplicate_sends_the_same_delivery_twice(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    live.create({"prompt": "x", "webhookOverride": receiver.url}, fault="duplicate")
    live.clock.advance(3)
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    assert first.delivery_id == second.delivery_id  # a receiver must dedupe on it
    assert (first.attempt, second.attempt) == (1, 2)


def test_out_of_order_sends_progress_events_after_the_final_one(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(job_seconds=1)
    message_id = live.create({"prompt": "x", "webhookOverride": receiver.url}, fault="out-of-order")
    live.clock.advance(0.5)
    until(lambda: live.svc.webhooks.dispatcher.pending == 0, what="idle dispatcher")
    assert receiver.arrivals == []  # progress events are being held back
    live.clock.advance(0.5)
    hooks = receiver.wait_for(100)
    assert hooks[0].json["status"] == "DONE"
    assert hooks[0].body == live.get(message_id).content
    assert [h.json["progress"] for h in hooks[1:]] == list(range(1, 100))
    assert all(h.json["status"] == "PROCESSING" for h in hooks[1:])


def test_early_says_done_while_polling_still_says_processing(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    message_id = live.create({"prompt": "x", "webhookOverride": receiver.url}, fault="early")
    [hook] = receiver.wait_for(1)  # no clock move at all
    assert hook.json["status"] == "DONE"
    polled = live.get(message_id)
    assert polled.json()["status"] == "PROCESSING"
    live.clock.advance(3)
    assert hook.body == live.get(message_id).content  # exactly what GET says once the job really ends
    until(lambda: live.svc.webhooks.dispatcher.pending == 0, what="idle dispatcher")
    assert len(receiver.arrivals) == 1  # not sent again at the real end


def test_early_for_a_queued_job_fires_when_it_starts(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(concurrency=1)
    live.create({"prompt": "blocker"})
    message_id = live.create({"prompt": "x", "webhookOverride": receiver.url}, fault="early")
    assert live.svc.scheduler.next_due() == pytest.approx(live.clock.now() + 3)
    live.clock.advance(3)
    [hook] = receiver.wait_for(1)
    assert hook.json["status"] == "DONE"
    assert live.get(message_id).json()["status"] == "PROCESSING"


def test_corrupt_body_breaks_the_schema_but_is_still_signed(serve: Serve) -> None:
    live = serve(webhook_secret=SECRET)
    with WebhookReceiver(secret=SECRET, validate=True) as receiver:
        live.create({"prompt": "x", "webhookOverride": receiver.url}, fault="corrupt")
        live.clock.advance(3)
        [hook] = receiver.wait_for(1)
    assert hook.verified is True  # the signature is over the corrupt body: only schema validation catches it
    rules = {v.rule for v in hook.violations}
    assert {"type", "enum", "required"} <= rules


def test_server_wide_fault_applies_unless_the_header_says_none(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(webhook_fault="drop")
    dropped = live.create({"prompt": "x", "webhookOverride": receiver.url})
    sent = live.create({"prompt": "y", "webhookOverride": receiver.url}, fault="none")
    live.clock.advance(3)
    [hook] = receiver.wait_for(1)
    assert hook.json["messageId"] == sent
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=dropped)
    assert entry.outcome == "dropped"


def test_faults_combine_and_are_tagged_in_the_request_journal(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    message_id = live.create({"prompt": "x", "webhookOverride": receiver.url}, fault="duplicate,delay=2")
    live.clock.advance(3)
    live.clock.advance(2)
    assert len(receiver.wait_for(2)) == 2
    [request] = [r for r in live.svc.journal.entries() if r.message_id == message_id and r.method == "POST"]
    assert "webhook-fault:duplicate,delay=2" in request.tags
    entries = live.svc.webhooks.journal.wait_for(2, message_id=message_id)
    assert entries[0].faults == ("delay=2", "duplicate")
