"""Webhooks driven through the admin API (/__mock): clock jumps, forced states, release, reset."""

from __future__ import annotations

import httpx
from webhook_support import Serve, until

from mock_server import Settings, SystemClock, WebhookReceiver
from mock_server.run.server import LiveServer


def test_admin_force_and_release_drive_webhooks(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(job_seconds=10, webhook_events="progress")
    message_id = live.create({"prompt": "x", "webhookOverride": receiver.url})
    forced = live.client.post(f"/__mock/jobs/{message_id}/force", json={"status": "PROCESSING", "progress": 50})
    assert forced.status_code == 200, forced.text
    [hook] = receiver.wait_for(1)
    assert (hook.json["status"], hook.json["progress"]) == ("PROCESSING", 50)
    assert live.client.delete(f"/__mock/jobs/{message_id}/force").status_code == 200
    [_, back] = receiver.wait_for(2)
    assert (back.json["status"], back.json["progress"]) == ("PROCESSING", 0)  # the plan again
    live.clock.advance(10)
    hooks = receiver.wait_for(102)
    assert hooks[-1].json["status"] == "DONE"
    assert hooks[-1].body == live.get(message_id).content


def test_admin_reset_forgets_pending_events_and_the_webhook_journal(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    done = live.create({"prompt": "done", "webhookOverride": receiver.url})
    live.clock.advance(3)
    live.svc.webhooks.journal.wait_for(1, message_id=done)
    live.create({"prompt": "pending", "webhookOverride": receiver.url})
    assert live.client.post("/__mock/reset").status_code == 200
    assert live.client.get("/__mock/webhooks").json()["attempts"] == []
    live.clock.advance(3)
    until(lambda: live.svc.webhooks.dispatcher.pending == 0, what="idle dispatcher")
    assert len(receiver.arrivals) == 1  # only the job finished before the reset


def test_real_time_and_admin_clock_jumps_on_a_system_clock(receiver: WebhookReceiver) -> None:
    """The `flux-mock serve` setting: SystemClock. Real time fires short jobs; /__mock/clock/advance skips long ones.

    The one test on real time: the scheduler's sleeper is what it checks. Jobs take 0.3 s; waits are on events.
    """
    with LiveServer(settings=Settings(job_seconds=0.3), clock=SystemClock()) as server:
        client = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer sk-x"})
        fast = {"prompt": "fast", "webhookOverride": receiver.url}
        created = client.post("/api/v1/flux/imagine", json=fast, headers={"X-Mock-Webhook": "none"})
        assert created.status_code == 200
        [hook] = receiver.wait_for(1, timeout=10)  # real time passes, no advance
        assert hook.json["status"] == "DONE"
        slow = {"prompt": "slow [mock:slow:600]", "webhookOverride": receiver.url}  # 10 minutes of processing
        assert client.post("/api/v1/flux/imagine", json=slow).status_code == 200
        assert client.post("/__mock/clock/advance", json={"seconds": 3600}).status_code == 200
        second = receiver.wait_for(2, timeout=5)[-1]  # fired by the jump, not by waiting ten minutes
        assert second.json["status"] == "DONE"
        assert second.json["prompt"] == "slow"
        client.close()
