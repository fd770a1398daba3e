"""Tests for mock_server.web.admin.webhooks: GET /__mock/webhooks."""

from __future__ import annotations

import jsonschema
import yaml
from webhook_support import Serve

from mock_server import Spec, WebhookReceiver
from mock_server.web.admin.routes import admin_spec_text


def test_journal_is_readable_over_http_and_filterable_by_message_id(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    receiver.reply(500)
    first = live.create({"prompt": "a", "ref": "r-1", "webhookOverride": receiver.url})
    live.clock.advance(3)
    retry = live.svc.webhooks.journal.wait_for(1, message_id=first)[0].retry_in_s
    assert retry is not None
    live.clock.advance(retry)
    live.svc.webhooks.journal.wait_for(2)
    second = live.create({"prompt": "b", "webhookOverride": receiver.url})
    live.clock.advance(3)
    live.svc.webhooks.journal.wait_for(3)

    everything = live.client.get("/__mock/webhooks").json()
    assert len(everything["attempts"]) == 3
    assert {"pending", "inFlight"} <= set(everything)
    only_first = live.client.get("/__mock/webhooks", params={"messageId": first}).json()["attempts"]
    assert [(a["attempt"], a["status"], a["outcome"]) for a in only_first] == [
        (1, 500, "retrying"),
        (2, 200, "delivered"),
    ]
    entry = only_first[-1]
    assert entry["url"] == receiver.url
    assert entry["headers"]["X-Mock-Attempt"] == "2"
    assert entry["headers"]["Content-Type"] == "application/json"
    assert entry["payload"] == live.get(first).text
    assert entry["latencyMs"] > 0
    assert entry["error"] is None
    assert entry["deliveryId"] == only_first[0]["deliveryId"]
    assert [
        a["messageId"] for a in live.client.get("/__mock/webhooks", params={"messageId": second}).json()["attempts"]
    ] == [second]

    since = only_first[0]["seq"]
    later = live.client.get("/__mock/webhooks", params={"since": since}).json()["attempts"]
    assert all(a["seq"] > since for a in later)
    assert len(later) == 2
    by_delivery = live.client.get("/__mock/webhooks", params={"deliveryId": entry["deliveryId"]}).json()["attempts"]
    assert len(by_delivery) == 2


def test_unknown_message_id_gives_an_empty_list_and_bad_since_a_400(serve: Serve) -> None:
    live = serve()
    assert live.client.get("/__mock/webhooks", params={"messageId": "nope"}).json()["attempts"] == []
    bad = live.client.get("/__mock/webhooks", params={"since": "yesterday"})
    assert bad.status_code == 400
    assert "since" in bad.json()["message"]


def test_admin_reads_are_not_in_the_request_journal(serve: Serve) -> None:
    live = serve()
    live.client.get("/__mock/webhooks")
    assert len(live.svc.journal) == 0


def test_answer_conforms_to_the_admin_spec(serve: Serve, receiver: WebhookReceiver, closed_port_url: str) -> None:
    live = serve(webhook_retries=1)
    delivered = live.create({"prompt": "ok", "webhookOverride": receiver.url})
    failed = live.create({"prompt": "no", "webhookOverride": closed_port_url})
    dropped = live.create({"prompt": "drop", "webhookOverride": receiver.url}, fault="drop")
    live.clock.advance(3)
    for message_id in (delivered, failed, dropped):
        live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    admin = Spec(yaml.safe_load(admin_spec_text()), source="admin_openapi.yaml", kinds=False)
    declared = admin.resolve(admin.operation("listWebhooks").responses["200"])
    schema = declared["content"]["application/json"]["schema"]
    body = live.client.get("/__mock/webhooks").json()
    jsonschema.Draft202012Validator(schema).validate(body)
    assert {a["outcome"] for a in body["attempts"]} == {"delivered", "failed", "dropped"}
