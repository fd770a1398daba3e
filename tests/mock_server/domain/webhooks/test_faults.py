"""Tests for mock_server.domain.webhooks.faults: parsing the fault selection and corrupting a body."""

from __future__ import annotations

import orjson
import pytest

from mock_server.domain.webhooks.faults import NO_FAULTS, WebhookFaults, corrupt, parse_faults
from mock_server.run.receiver import payload_violations

MESSAGE = {
    "messageId": "d15c1541-229a-442b-9873-d3494dede12a",
    "prompt": "a fox",
    "status": "DONE",
    "progress": 100,
    "uri": "http://127.0.0.1:8080/x.png",
    "images": ["http://127.0.0.1:8080/x.png"],
    "createdAt": "2025-06-15T15:06:40.000Z",
    "updatedAt": "2025-06-15T15:06:43.000Z",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, NO_FAULTS),
        ("", NO_FAULTS),
        ("none", NO_FAULTS),
        ("drop", WebhookFaults(drop=True)),
        ("delay=5", WebhookFaults(delay_s=5.0)),
        ("delay 2.5s", WebhookFaults(delay_s=2.5)),
        ("Duplicate", WebhookFaults(duplicate=True)),
        ("out-of-order", WebhookFaults(out_of_order=True)),
        ("early, corrupt", WebhookFaults(early=True, corrupt=True)),
        ("duplicate,delay=1", WebhookFaults(duplicate=True, delay_s=1.0)),
    ],
)
def test_parse_faults(text: str | None, expected: WebhookFaults) -> None:
    assert parse_faults(text) == expected


@pytest.mark.parametrize("text", ["explode", "delay", "delay=-1", "delay=abc", "drop,nope", "delay=100000"])
def test_unknown_or_malformed_faults_are_refused_with_the_choices(text: str) -> None:
    with pytest.raises(ValueError, match="webhook fault") as info:
        parse_faults(text)
    if "delay=" not in text or text == "delay=abc":
        assert "out-of-order" in str(info.value)  # lists the choices


def test_names_round_trip() -> None:
    faults = WebhookFaults(drop=True, delay_s=3, duplicate=True, out_of_order=True, early=True, corrupt=True)
    assert faults.names == ("drop", "delay=3", "duplicate", "out-of-order", "early", "corrupt")
    assert parse_faults(",".join(faults.names)) == faults
    assert not NO_FAULTS
    assert faults


def test_the_sample_message_is_valid_and_corrupting_it_breaks_the_webhook_schema() -> None:
    assert payload_violations(MESSAGE) == []
    broken = orjson.loads(corrupt(orjson.dumps(MESSAGE)))
    rules = {(v.pointer, v.rule) for v in payload_violations(broken)}
    assert ("/progress", "type") in rules
    assert ("/status", "enum") in rules
    assert ("/updatedAt", "required") in rules
    assert broken["messageId"] == MESSAGE["messageId"]  # still says which job it is about
