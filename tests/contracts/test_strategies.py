"""Strategies generated from the spec, checked against the spec and against the mock itself.

Every test pins its own seeded settings (derandomize, no example database), whatever profile runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from contracts import checks, strategies
from contracts.core import rules
from contracts.core.schema import validator_for
from mock_server import Settings, VirtualClock, create_app

SEEDED = settings(derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def seeded(max_examples: int) -> settings:
    """The seeded settings with this many examples."""
    return settings(SEEDED, max_examples=max_examples)


KEY = "sk-strategies"
# The contract allows any http(s) webhookOverride; a flux-mock with webhook delivery refuses hosts off its
# allow-list (a mock extension) unless told to accept every host and only record the webhooks.
SETTINGS = Settings(api_keys=(KEY,), job_seconds=1, webhook_allow_hosts=("*",), webhook_transport="record")
APP = create_app(SETTINGS, clock=VirtualClock())


def post(path: str, body: Any) -> tuple[int, Any]:
    async def go() -> tuple[int, Any]:
        transport = httpx.ASGITransport(app=APP)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            answer = await client.post(path, json=body, headers={"Authorization": f"Bearer {KEY}"})
            return answer.status_code, answer.json()

    return asyncio.run(go())


@seeded(60)
@given(strategies.imagine_requests())
def test_every_generated_imagine_request_is_accepted_by_the_mock(body: dict[str, Any]) -> None:
    status, answer = post("/api/v1/flux/imagine", body)
    assert status == 200, (body, answer)


@seeded(30)
@given(strategies.upscale_requests())
def test_every_generated_upscale_request_is_accepted_by_the_mock(body: dict[str, Any]) -> None:
    status, answer = post("/api/v1/flux/upscale", body)
    assert status == 200, (body, answer)


@pytest.mark.parametrize("rule", strategies.imagine_rule_names())
def test_invalid_imagine_requests_are_rejected_naming_the_field(rule: str) -> None:
    known = set(strategies.contract().schema("ImagineRequest")["properties"])

    @seeded(8)
    @given(strategies.invalid_imagine_requests(rule=rule))
    def rejected(body: dict[str, Any]) -> None:
        assert rules.broken_rules("fluxImagine", body) == {rule}
        field = rule.split(".")[0] if rule != "additionalProperties" else next(k for k in body if k not in known)
        status, answer = post("/api/v1/flux/imagine", body)
        assert checks.rejection_names_field(status, answer, rule=rule, field=field) == [], (body, answer)
        assert any(d["pointer"] == f"/{field}" for d in answer["details"]), answer

    rejected()


@seeded(40)
@given(strategies.invalid_upscale_requests())
def test_invalid_upscale_requests_break_one_rule_and_are_rejected(body: dict[str, Any]) -> None:
    assert len(rules.broken_rules("fluxUpscale", body)) == 1
    status, _ = post("/api/v1/flux/upscale", body)
    assert status == 400


def test_rule_is_validated_eagerly_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match=r"Unknown rule 'widht\.multipleOf'.*Did you mean 'width\.multipleOf'"):
        strategies.invalid_imagine_requests(rule="widht.multipleOf")


@seeded(80)
@given(strategies.messages(coherent=False))
def test_generated_messages_validate_against_the_spec(body: dict[str, Any]) -> None:
    assert validator_for("Message").is_valid(body)


@seeded(80)
@given(strategies.messages())
def test_coherent_messages_also_pass_every_check(body: dict[str, Any]) -> None:
    assert checks.check_message(body) == []


@pytest.mark.parametrize("status", ["QUEUED", "PROCESSING", "DONE", "FAIL"])
def test_messages_of_one_status(status: str) -> None:
    @seeded(15)
    @given(strategies.messages(status=status), strategies.webhook_payloads(status=status))
    def only(message: dict[str, Any], payload: dict[str, Any]) -> None:
        assert message["status"] == payload["status"] == status
        assert validator_for("webhook:messageUpdate").is_valid(payload)
        assert checks.check_message(payload, schema="webhook:messageUpdate") == []

    only()


def test_unknown_status_is_refused_eagerly() -> None:
    with pytest.raises(ValueError, match=r"Unknown status 'SUCCESS'.*QUEUED, PROCESSING, DONE, FAIL"):
        strategies.messages(status="SUCCESS")


def test_all_statuses_and_optional_keys_are_generated() -> None:
    seen: set[str] = set()
    keys: set[str] = set()

    @seeded(100)
    @given(strategies.messages(coherent=False))
    def collect(body: dict[str, Any]) -> None:
        seen.add(body["status"])
        keys.update(body)

    collect()
    assert seen == {"QUEUED", "PROCESSING", "DONE", "FAIL"}
    assert {"uri", "images", "error", "ref", "prompt"} <= keys


def test_make_coherent_repairs_a_schema_valid_but_incoherent_body() -> None:
    body = {
        "messageId": "2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001",
        "status": "DONE",
        "progress": 3,
        "createdAt": "2026-02-22T07:43:49+00:00",
        "updatedAt": "2026-02-22T07:43:37+00:00",
    }
    fixed = strategies.make_coherent(body)
    assert checks.check_message(fixed) == []
    assert fixed["uri"] == fixed["images"][0]
    assert fixed["progress"] == 100


# --- every operation with a body ------------------------------------------------------------------------------

DIY = create_app(
    Settings(api_keys=(KEY,), job_seconds=1, plan_type="DIY", webhook_allow_hosts=("*",), webhook_transport="record"),
    clock=VirtualClock(),
)


def send(operation_id: str, body: Any) -> tuple[int, Any]:
    from contracts.check.probes import concrete_path

    op = strategies.contract().operation(operation_id)

    async def go() -> tuple[int, Any]:
        transport = httpx.ASGITransport(app=DIY)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            path = concrete_path(operation_id)
            answer = await client.request(op.method, path, json=body, headers={"Authorization": f"Bearer {KEY}"})
            return answer.status_code, answer.json()

    return asyncio.run(go())


BODY_OPERATIONS = rules.body_operations()


def test_every_operation_with_a_body_has_strategies() -> None:
    assert len(BODY_OPERATIONS) == 23
    assert {"mjImagine", "mjButton", "videoExtend", "universalImagine", "promptCheck", "mjCommand"} <= set(
        BODY_OPERATIONS
    )
    assert strategies.rule_names("mjBlend")[:2] == ("urls.required", "urls.type")
    assert {"urls.minItems", "urls.maxItems"} <= set(strategies.rule_names("mjBlend"))
    assert "mask.required" in strategies.rule_names("mjButton")  # the if/then rule of Vary (Region)


@pytest.mark.parametrize("operation_id", BODY_OPERATIONS)
def test_generated_valid_bodies_of_every_operation_are_never_refused_as_invalid(operation_id: str) -> None:
    @seeded(6)
    @given(strategies.requests(operation_id))
    def accepted(body: dict[str, Any]) -> None:
        assert rules.broken_rules(operation_id, body) == set()
        status, answer = send(operation_id, body)
        # 404/409: a button or an extend of a message this key never made (valid, but nothing to act on)
        assert status in (200, 404, 409), (body, answer)

    accepted()


@pytest.mark.parametrize("operation_id", BODY_OPERATIONS)
def test_generated_invalid_bodies_of_every_operation_break_one_rule_and_are_rejected(operation_id: str) -> None:
    known = set(strategies.contract().operation(operation_id).request_schema["properties"])  # type: ignore[index]

    @seeded(6)
    @given(strategies.invalid_requests(operation_id))
    def rejected(body: dict[str, Any]) -> None:
        [rule] = rules.broken_rules(operation_id, body)
        field = rule.split(".")[0] if rule != "additionalProperties" else next(k for k in body if k not in known)
        status, answer = send(operation_id, body)
        assert checks.rejection_names_field(status, answer, rule=rule, field=field) == [], (body, answer)

    rejected()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: strategies.requests("fetchMessage"), r"'fetchMessage' takes no JSON request body"),
        (lambda: strategies.invalid_requests("mjBlnd"), r"Did you mean 'mjBlend'"),
        (lambda: strategies.invalid_requests("mjBlend", rule="urls.maxitems"), r"Did you mean 'urls\.maxItems'"),
    ],
)
def test_unknown_operations_and_rules_are_refused_eagerly(call: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_the_flux_names_are_the_general_ones_for_flux() -> None:
    assert strategies.imagine_rule_names() == strategies.rule_names("fluxImagine")
