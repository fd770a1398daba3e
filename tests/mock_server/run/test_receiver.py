"""Tests for mock_server.run.receiver: the reusable recording receiver."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from webhook_support import OTHER_SECRET, SECRET

from mock_server import ReceivedWebhook, WebhookReceiver, WebhookReply
from mock_server.domain.webhooks.signing import Signer

BODY = b'{"messageId":"d15c1541-229a-442b-9873-d3494dede12a","status":"DONE","progress":100,"createdAt":"x"}'


def test_records_requests_and_answers_with_the_script_then_the_default() -> None:
    with WebhookReceiver(path="hooks/in") as rx:
        assert rx.url.startswith("http://127.0.0.1:")
        assert rx.url.endswith("/hooks/in")
        rx.reply(503, WebhookReply(429, headers={"Retry-After": "3"}, body=b"slow down"))
        statuses = []
        for _ in range(3):
            response = httpx.post(rx.url, content=BODY, headers={"X-Mock-Attempt": "1", "X-Mock-Delivery-Id": "d"})
            statuses.append(response.status_code)
        assert statuses == [503, 429, 200]
        arrivals = rx.wait_for(3)
        assert [a.status for a in arrivals] == [503, 429, 200]
        assert arrivals[0].json["status"] == "DONE"
        assert (arrivals[0].attempt, arrivals[0].delivery_id, arrivals[0].path) == (1, "d", "/hooks/in")
        assert arrivals[0].verified is None  # no secret configured


def test_scripted_headers_and_body_are_sent_back() -> None:
    with WebhookReceiver() as rx:
        rx.reply(WebhookReply(429, headers={"Retry-After": "3"}, body=b"slow down"))
        response = httpx.post(rx.url, content=b"{}")
        assert (response.status_code, response.headers["retry-after"], response.content) == (429, "3", b"slow down")


def test_wait_for_times_out_with_a_count_and_supports_predicates() -> None:
    with WebhookReceiver() as rx:
        httpx.post(rx.url, content=b'{"status": "PROCESSING"}')
        with pytest.raises(TimeoutError, match="got 1 matching request"):
            rx.wait_for(2, timeout=0.2)
        done = rx.wait_for(0, predicate=lambda a: a.json["status"] == "DONE", timeout=0.1)
        assert done == []

        def later() -> None:
            time.sleep(0.05)
            httpx.post(rx.url, content=b'{"status": "DONE"}')

        threading.Thread(target=later).start()
        [hook] = rx.wait_for(1, predicate=lambda a: a.json["status"] == "DONE", timeout=5)
        assert isinstance(hook, ReceivedWebhook)


def test_signature_verdicts_are_recorded() -> None:
    headers = Signer(SECRET).headers("delivery-1", BODY)
    with WebhookReceiver(secret=SECRET) as good, WebhookReceiver(secret=OTHER_SECRET) as wrong:
        httpx.post(good.url, content=BODY, headers=headers)
        httpx.post(wrong.url, content=BODY, headers=headers)
        httpx.post(good.url, content=BODY)  # unsigned
        ok, unsigned = good.wait_for(2)
        [bad] = wrong.wait_for(1)
    assert ok.verified is True
    assert ok.verify_error is None
    assert bad.verified is False
    assert bad.verify_error is not None
    assert "No matching signature" in bad.verify_error
    assert unsigned.verified is False
    assert unsigned.verify_error is not None
    assert "Missing required headers" in unsigned.verify_error


def test_validation_flags_schema_breaks_and_non_json() -> None:
    with WebhookReceiver(validate=True) as rx:
        httpx.post(rx.url, content=b'{"status": "DONE"}')
        httpx.post(rx.url, content=b"not json")
        partial, garbage = rx.wait_for(2)
    assert partial.violations
    assert {v.rule for v in partial.violations} == {"required"}
    assert garbage.json is None
    assert garbage.violations[0].rule == "json"


def test_hanging_reply_is_released_when_the_receiver_stops() -> None:
    rx = WebhookReceiver(default=WebhookReply(hang=True)).start()
    errors: list[BaseException] = []

    def post() -> None:
        try:
            httpx.post(rx.url, content=b"{}", timeout=10)
        except httpx.HTTPError as exc:  # pragma: no cover - only on failure
            errors.append(exc)

    thread = threading.Thread(target=post)
    thread.start()
    rx.wait_for(1)
    started = time.monotonic()
    rx.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 5
    assert errors == []


@pytest.mark.anyio
async def test_wait_for_async_keeps_the_event_loop_running() -> None:
    with WebhookReceiver() as rx:
        async with httpx.AsyncClient() as client:
            await client.post(rx.url, content=b"{}")
        [hook] = await rx.wait_for_async(1, timeout=5)
        assert hook.body == b"{}"
