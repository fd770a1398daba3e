"""Tests for mock_server.domain.webhooks.signing: Standard Webhooks signatures, verified with the reference library."""

from __future__ import annotations

import time

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from webhook_support import OTHER_SECRET as OTHER
from webhook_support import SECRET, Serve

from mock_server import WebhookReceiver
from mock_server.domain.webhooks.signing import Signer, secret_problem

BODY = b'{"messageId":"d15c1541-229a-442b-9873-d3494dede12a","status":"DONE","progress":100}'


def test_headers_verify_with_the_standardwebhooks_library() -> None:
    headers = Signer(SECRET).headers("delivery-1", BODY)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert headers["webhook-id"] == "delivery-1"
    assert headers["webhook-signature"].startswith("v1,")
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60  # wall clock: receivers check it
    assert Webhook(SECRET).verify(BODY, headers)["status"] == "DONE"


def test_wrong_secret_tampered_body_and_stale_timestamp_fail() -> None:
    headers = Signer(SECRET).headers("delivery-1", BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY.replace(b"DONE", b"FAIL"), headers)
    stale = Signer(SECRET).headers("delivery-1", BODY, timestamp=time.time() - 3600)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(BODY, stale)


def test_signature_is_deterministic_for_id_timestamp_and_body() -> None:
    a = Signer(SECRET).headers("d", BODY, timestamp=1_750_000_000)
    b = Signer(SECRET).headers("d", BODY, timestamp=1_750_000_000)
    c = Signer(SECRET).headers("e", BODY, timestamp=1_750_000_000)
    assert a == b
    assert a["webhook-signature"] != c["webhook-signature"]


@pytest.mark.parametrize(("secret", "fragment"), [("whsec_!!!", "not base64"), ("whsec_c2hvcnQ=", "use at least 16")])
def test_unusable_secrets_are_explained(secret: str, fragment: str) -> None:
    problem = secret_problem(secret)
    assert problem is not None
    assert fragment in problem
    with pytest.raises(ValueError, match="whsec_"):
        Signer(secret)


def test_secret_without_prefix_is_accepted() -> None:
    assert secret_problem(SECRET.removeprefix("whsec_")) is None


# --- end to end: the mock signs, a receiver verifies -------------------------------------------------------------


def test_signed_delivery_verifies_with_the_right_secret_only(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(webhook_secret=SECRET)
    message_id = live.create({"prompt": "signed", "webhookOverride": receiver.url})
    live.clock.advance(3)
    [hook] = receiver.wait_for(1)
    assert hook.headers["webhook-id"] == hook.delivery_id
    payload = Webhook(SECRET).verify(hook.body, hook.headers)
    assert payload["messageId"] == message_id
    with pytest.raises(WebhookVerificationError):
        Webhook(OTHER).verify(hook.body, hook.headers)
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    assert entry.headers["webhook-signature"] == hook.headers["webhook-signature"]  # the journal shows what was sent


def test_every_attempt_is_signed_afresh_with_the_same_id(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(webhook_secret=SECRET)
    receiver.reply(503)
    message_id = live.create({"prompt": "signed", "webhookOverride": receiver.url})
    live.clock.advance(3)
    [first] = live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    live.clock.advance(first.retry_in_s or 0)
    hooks = receiver.wait_for(2)
    assert hooks[0].headers["webhook-id"] == hooks[1].headers["webhook-id"]
    for hook in hooks:
        Webhook(SECRET).verify(hook.body, hook.headers)


def test_unsigned_by_default(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    live.create({"prompt": "plain", "webhookOverride": receiver.url})
    live.clock.advance(3)
    [hook] = receiver.wait_for(1)
    assert not {"webhook-id", "webhook-timestamp", "webhook-signature"} & set(hook.headers)
