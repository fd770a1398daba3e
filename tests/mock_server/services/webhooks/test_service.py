"""Tests for mock_server.services.webhooks.service: which events are sent, where, and with what body."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from webhook_support import Serve, until

from mock_server import VirtualClock, WebhookReceiver
from mock_server.domain.lifecycle import JobStatus
from mock_server.run.receiver import payload_violations
from mock_server.services.container import Services


def test_final_webhook_is_byte_for_byte_the_final_get_body_and_echoes_ref(
    serve: Serve, receiver: WebhookReceiver
) -> None:
    live = serve()
    message_id = live.create({"prompt": "a red fox", "ref": "order-42", "n": 2, "webhookOverride": receiver.url})
    assert live.get(message_id).json()["status"] == "PROCESSING"
    live.clock.advance(3)
    [hook] = receiver.wait_for(1)
    final = live.get(message_id)
    assert hook.body == final.content  # byte-for-byte, key order included
    assert hook.method == "POST"
    assert hook.path == "/webhook"
    assert hook.json["ref"] == "order-42"
    assert hook.json["status"] == "DONE"
    assert len(hook.json["images"]) == 2
    assert hook.violations == ()  # valid per the spec's `webhooks` schema (receiver validates)
    assert payload_violations(hook.json) == []


def test_upscale_job_sends_its_final_message(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    body = {"image": "https://cdn.example/x.png", "scale": 2, "webhookOverride": receiver.url}
    message_id = live.create(body, path="/api/v1/flux/upscale")
    live.clock.advance(3)
    [hook] = receiver.wait_for(1)
    assert hook.json["status"] == "DONE"
    assert "prompt" not in hook.json
    assert hook.body == live.get(message_id).content


def test_timed_out_job_sends_fail(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(job_seconds=30)
    message_id = live.create({"prompt": "slow", "timeout": 10, "webhookOverride": receiver.url})
    live.clock.advance(10)
    [hook] = receiver.wait_for(1)
    assert hook.json["status"] == "FAIL"
    assert "timed out" in hook.json["error"]
    assert hook.body == live.get(message_id).content


def test_default_webhook_url_is_used_without_override(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(webhook_url=receiver.url)
    message_id = live.create({"prompt": "no override"})
    live.clock.advance(3)
    [hook] = receiver.wait_for(1)
    assert hook.json["messageId"] == message_id


def test_override_wins_over_the_default(serve: Serve, receiver: WebhookReceiver) -> None:
    with WebhookReceiver() as default:
        live = serve(webhook_url=default.url)
        live.create({"prompt": "override", "webhookOverride": receiver.url})
        live.clock.advance(3)
        receiver.wait_for(1)
        assert default.arrivals == []


def test_jobs_without_any_webhook_send_and_schedule_nothing(serve: Serve) -> None:
    live = serve()
    live.create({"prompt": "quiet"})
    live.clock.advance(3)
    assert live.svc.scheduler.next_due() is None
    assert len(live.svc.webhooks.journal) == 0


def test_progress_events_follow_every_change_in_order(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(webhook_events="progress", job_seconds=1.0, concurrency=1)
    live.create({"prompt": "first"})  # occupies the only slot for 1 s, so the next job is QUEUED
    message_id = live.create({"prompt": "watched", "webhookOverride": receiver.url})
    assert live.get(message_id).json()["status"] == "QUEUED"
    live.clock.advance(1)  # the watched job starts
    [started] = receiver.wait_for(1)
    assert (started.json["status"], started.json["progress"]) == ("PROCESSING", 0)
    assert started.body == live.get(message_id).content  # the body GET returns at that instant
    live.clock.advance(1)
    hooks = receiver.wait_for(101)
    states = [(h.json["status"], h.json["progress"]) for h in hooks]
    assert states == [("PROCESSING", p) for p in range(100)] + [("DONE", 100)]
    assert all(h.headers["x-mock-event"] == "progress" for h in hooks[:-1])
    assert hooks[-1].headers["x-mock-event"] == "final"
    assert hooks[-1].body == live.get(message_id).content
    assert len({h.delivery_id for h in hooks}) == 101
    assert all(not h.violations for h in hooks)


def test_progress_events_are_not_sent_in_final_mode(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(job_seconds=1.0)
    live.create({"prompt": "x", "webhookOverride": receiver.url})
    live.clock.advance(0.5)
    assert live.svc.scheduler.next_due() == pytest.approx(live.clock.now() + 0.5)  # only the final instant is planned
    live.clock.advance(0.5)
    [hook] = receiver.wait_for(1)
    assert hook.json["status"] == "DONE"


def test_a_forced_state_sends_its_final_webhook(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(job_seconds=600)
    message_id = live.create({"prompt": "x", "webhookOverride": receiver.url})
    live.svc.jobs.force(message_id, JobStatus.FAIL, 37, "forced by admin")  # what the admin API will call
    [hook] = receiver.wait_for(1)
    assert hook.json["status"] == "FAIL"
    assert hook.json["error"] == "forced by admin"
    assert hook.body == live.get(message_id).content
    live.clock.advance(600)  # the plan's own end no longer counts
    assert live.svc.scheduler.next_due() is None
    until(lambda: live.svc.webhooks.dispatcher.pending == 0, what="idle dispatcher")
    assert len(receiver.arrivals) == 1


def test_off_list_host_is_accepted_never_contacted_and_journalled_blocked(
    serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    live = serve()
    first = live.create({"prompt": "x", "webhookOverride": "http://169.254.169.254/latest/meta-data"})
    second = live.create({"prompt": "y", "webhookOverride": "http://169.254.169.254/other"})
    live.create({"prompt": "z", "webhookOverride": "HTTP://hooks.example.com:99999/in"})  # RFC 3986: any case
    with caplog.at_level("WARNING", logger="flux_mock.webhooks"):
        live.clock.advance(3)
        until(lambda: len(live.svc.webhooks.journal) == 3, what="three blocked deliveries")
    attempts = live.svc.webhooks.journal.entries()
    assert [a.outcome for a in attempts] == ["blocked"] * 3
    assert {a.message_id for a in attempts} >= {first, second}
    assert all(a.attempt == 0 and a.status is None for a in attempts)
    assert "not on the mock's allow-list" in (attempts[0].error or "")
    assert "port 99999" in (attempts[2].error or "")
    said = [r.getMessage() for r in caplog.records if "are not sent" in r.getMessage()]
    assert len(said) == 2  # once per host, not once per delivery
    assert "allow it with --webhook-allow-host 169.254.169.254" in said[0]
    assert "fix the URL" in said[1]
    listed = live.client.get("/__mock/webhooks").json()
    assert [(b["host"], b["deliveries"]) for b in listed["blockedHosts"]] == [
        ("169.254.169.254", 2),
        ("hooks.example.com", 1),
    ]
    assert live.svc.webhooks.dispatcher.in_flight == 0


def test_refused_host_is_a_400_naming_the_rule_and_nothing_is_created(serve: Serve) -> None:
    live = serve(webhook_off_list="refuse")
    response = live.client.post(
        "/api/v1/flux/imagine", json={"prompt": "x", "webhookOverride": "http://169.254.169.254/latest/meta-data"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["statusCode"] == 400
    assert "allow-list" in body["message"][0]
    assert "'169.254.169.254'" in body["message"][0]
    [detail] = body["details"]
    assert detail["pointer"] == "/webhookOverride"
    assert detail["rule"] == "x-mock-webhook-allow-host"
    assert detail["expected"] == ["127.0.0.1", "localhost", "::1"]
    assert "--webhook-allow-host" in detail["hint"]
    assert len(live.svc.jobs) == 0


def test_allow_listed_extra_host_is_accepted(serve: Serve) -> None:
    live = serve(
        webhook_allow_hosts=("127.0.0.1", "*.hooks.test"), webhook_transport="record", webhook_off_list="refuse"
    )
    live.create({"prompt": "x", "webhookOverride": "https://a.hooks.test/in"})
    refused = live.client.post("/api/v1/flux/imagine", json={"prompt": "x", "webhookOverride": "http://localhost/"})
    assert refused.status_code == 400  # localhost is not on this list


def test_bad_fault_header_is_a_400(serve: Serve) -> None:
    live = serve()
    response = live.client.post("/api/v1/flux/imagine", json={"prompt": "x"}, headers={"X-Mock-Webhook": "explode"})
    assert response.status_code == 400
    [detail] = response.json()["details"]
    assert (detail["location"], detail["pointer"], detail["value"]) == ("header", "/X-Mock-Webhook", "explode")


@pytest.mark.anyio
async def test_in_process_app_delivers_when_the_virtual_clock_moves(
    app: Starlette, api: httpx.AsyncClient, clock: VirtualClock, receiver: WebhookReceiver
) -> None:
    """Without a lifespan or a socket for the mock (the shared `api` fixture), deliveries still fire on advance()."""
    response = await api.post("/api/v1/flux/imagine", json={"prompt": "in-process", "webhookOverride": receiver.url})
    message_id = response.json()["messageId"]
    clock.advance(3)
    [hook] = await receiver.wait_for_async(1)
    final = await api.get(f"/api/v1/message/fetch/{message_id}")
    assert hook.body == final.content
    svc: Services = app.state.services
    await svc.webhooks.aclose()
