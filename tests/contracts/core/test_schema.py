"""The contract as the kit loads it: the mock's cached loader, validators, and schemathesis schemas."""

from __future__ import annotations

import pytest

from contracts.core import schema
from mock_server import VirtualClock, create_app, load_spec

DONE = {
    "messageId": "2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001",
    "status": "DONE",
    "progress": 100,
    "uri": "https://cdn.example.test/a.png",
    "images": ["https://cdn.example.test/a.png"],
    "createdAt": "2026-02-22T07:43:37+00:00",
    "updatedAt": "2026-02-22T07:43:49+00:00",
}


def test_contract_is_the_mocks_cached_spec() -> None:
    assert schema.contract() is load_spec()


def test_document_is_a_private_copy() -> None:
    copy = schema.document()
    copy["paths"].clear()
    assert schema.contract().document["paths"]


def test_webhook_schema_is_resolved_from_the_webhooks_section() -> None:
    assert schema.schema_pointer("webhook:messageUpdate") == (
        "#/webhooks/messageUpdate/post/requestBody/content/application~1json/schema"
    )
    assert "webhook:messageUpdate" in schema.schema_names()
    validator = schema.validator_for("webhook:messageUpdate")
    assert validator.is_valid(DONE)
    assert not validator.is_valid({**DONE, "status": "FINISHED"})


@pytest.mark.parametrize(
    ("name", "bad", "pointer", "keyword"),
    [
        ("Message", {**DONE, "messageId": "nope"}, "/messageId", "format"),
        ("Message", {**DONE, "createdAt": "yesterday"}, "/createdAt", "format"),
        ("Message", {**DONE, "images": ["not a uri"]}, "/images/0", "format"),
        ("CreateResponse", {"success": True, "createdAt": "2026-02-22T07:43:37Z"}, "", "required"),
        ("Error", {"message": 5, "statusCode": 400}, "/message", "oneOf"),
    ],
)
def test_schema_errors_locate_each_violation(name: str, bad: dict[str, object], pointer: str, keyword: str) -> None:
    [error] = schema.schema_errors(name, bad)
    assert (error.pointer, error.keyword) == (pointer, keyword)


def test_unknown_schema_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"Unknown schema 'Mesage'.*Message.*webhook:messageUpdate"):
        schema.validator_for("Mesage")


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://127.5.0.1", True),
        ("http://localhost:9", True),
        ("http://[::1]:8080", True),
        ("https://api.imaginepro.ai", False),
        ("http://10.0.0.1", False),
        ("http://localhost.example.com", False),
    ],
)
def test_is_loopback(url: str, loopback: bool) -> None:
    assert schema.is_loopback(url) is loopback


def test_load_schema_for_a_url_sets_base_url_and_config() -> None:
    loaded = schema.load_schema(base_url="http://127.0.0.1:9/", config={"seed": 3})
    assert loaded.get_base_url() == "http://127.0.0.1:9"
    labels = {op.ok().label for op in loaded.get_all_operations()}
    assert "POST /api/v1/flux/imagine" in labels
    assert not any("__webhooks__" in label for label in labels)


def test_load_schema_in_process_and_with_webhooks_as_paths() -> None:
    app = create_app(clock=VirtualClock())
    loaded = schema.load_schema(app=app, webhooks_as_paths=True)
    assert loaded.app is app
    labels = {op.ok().label for op in loaded.get_all_operations()}
    assert "POST /__webhooks__/messageUpdate" in labels


def test_the_fuzzing_copy_drops_only_long_bounds_of_patterned_strings() -> None:
    document = schema.document()
    removed = schema.drop_costly_bounds(document)
    assert removed == ["#/components/schemas/ButtonRequest/properties/mask/maxLength"]
    mask = document["components"]["schemas"]["ButtonRequest"]["properties"]["mask"]
    assert "pattern" in mask  # valid values still match it, invalid ones still break it
    assert schema.document()["components"]["schemas"]["ButtonRequest"]["properties"]["mask"]["maxLength"] == 700_000


def test_the_kit_still_probes_the_dropped_bound() -> None:
    # What fuzzing leaves out, a probe still sends: one body that breaks exactly the mask's length bound.
    from contracts.core.rules import rules

    assert "mask.maxLength" in rules("mjButton")
