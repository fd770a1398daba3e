"""The named checks: each holds on good bodies and fails, with an actionable message, on bad ones."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from contracts import checks
from contracts.core.failures import ContractViolation
from mock_server import Settings, VirtualClock, create_app

MID = "2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001"
IMG = f"https://cdn-new.imaginepro.ai/storage/v1/object/public/cdn/{MID}.png"


def message(status: str = "PROCESSING", progress: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messageId": MID,
        "prompt": "a lighthouse at dusk",
        "status": status,
        "progress": 40 if progress is None else progress,
        "createdAt": "2026-02-22T07:43:37+00:00",
        "updatedAt": "2026-02-22T07:43:49+00:00",
    }
    if status == "DONE":
        body.update(progress=100 if progress is None else progress, uri=IMG, images=[IMG])
    if status == "FAIL":
        body["error"] = "Generation failed"
    body.update(extra)
    return body


def names(failures: list[checks.ContractFailure]) -> set[str]:
    return {f.check for f in failures}


def test_a_coherent_history_passes_every_check() -> None:
    history = [message("QUEUED", 0), message(progress=10), message(progress=60), message("DONE")]
    assert checks.check_history(history, n=1, message_id=MID) == []


def test_status_moving_back_is_named_with_the_polls() -> None:
    [failure] = checks.status_moves_forward([message(), message("DONE"), message(progress=99)])
    assert failure.check == "status_moves_forward"
    assert "DONE to PROCESSING between poll 2 and 3" in failure.message
    assert "final status must never change" in failure.message
    assert failure.pointer == "/status"
    assert failure.message_id == MID


def test_done_then_fail_is_a_change_of_final_status() -> None:
    assert names(checks.status_moves_forward([message("DONE"), message("FAIL")])) == {"status_moves_forward"}


def test_progress_must_not_decrease() -> None:
    [failure] = checks.progress_never_decreases([message(progress=50), message(progress=30), message(progress=30)])
    assert "from 50 to 30" in failure.message
    assert failure.expected == ">= 50"
    assert failure.actual == 30


@pytest.mark.parametrize("value", [-1, 101, 50.5, "50", True])
def test_progress_out_of_range_or_not_an_integer(value: Any) -> None:
    assert names(checks.progress_in_range(message(progress=value))) == {"progress_in_range"}


def test_missing_progress_is_out_of_range() -> None:
    assert names(checks.progress_in_range({"status": "QUEUED"})) == {"progress_in_range"}


def test_integral_float_progress_is_an_integer() -> None:
    assert checks.progress_in_range(message(progress=50.0)) == []


def test_done_needs_n_images_and_uri_first() -> None:
    two = [IMG, IMG.replace(".png", "-1.png")]
    assert checks.done_has_images(message("DONE", images=two, uri=two[0]), n=2) == []
    [count] = checks.done_has_images(message("DONE"), n=2)
    assert "n=2" in count.message
    assert count.actual == 1
    [uri] = checks.done_has_images(message("DONE", uri=two[1], images=two), n=2)
    assert uri.pointer == "/uri"
    assert uri.expected == two[0]
    [missing] = checks.done_has_images({k: v for k, v in message("DONE").items() if k != "images"})
    assert "images is missing" in missing.message


def test_done_has_progress_100() -> None:
    assert names(checks.done_progress_is_100(message("DONE", progress=99))) == {"done_progress_is_100"}


@pytest.mark.parametrize("error", [None, "", "   "])
def test_fail_needs_an_error(error: str | None) -> None:
    body = message("FAIL")
    if error is None:
        del body["error"]
    else:
        body["error"] = error
    assert names(checks.fail_has_error(body)) == {"fail_has_error"}


def test_timestamps_parse_and_are_ordered() -> None:
    assert checks.timestamps_are_ordered(message(createdAt="2023-08-01T14:03:01.817Z")) == []
    [order] = checks.timestamps_are_ordered(message(updatedAt="2026-02-22T07:43:36+00:00"))
    assert "earlier than createdAt" in order.message
    [bad] = checks.timestamps_are_ordered(message(createdAt="22/02/2026"))
    assert bad.pointer == "/createdAt"
    assert "not an ISO 8601" in bad.message


def test_parse_timestamp_accepts_leap_seconds_and_reads_naive_as_utc() -> None:
    assert checks.parse_timestamp("2016-12-31T23:59:60Z") is not None
    naive = checks.parse_timestamp("2026-02-22T07:43:37")
    assert naive is not None
    assert naive.utcoffset() is not None
    assert checks.parse_timestamp(1234) is None


def test_timestamps_never_go_back_between_polls() -> None:
    later, earlier = message(updatedAt="2026-02-22T07:43:50+00:00"), message()
    assert names(checks.timestamps_never_go_back([later, earlier])) == {"timestamps_never_go_back"}
    moved = message(createdAt="2026-02-22T07:43:38+00:00")
    assert names(checks.timestamps_never_go_back([message(), moved])) == {"timestamps_never_go_back"}


def test_identity_and_ref() -> None:
    assert names(checks.message_id_matches(message(), "another")) == {"message_id_matches"}
    assert checks.ref_is_echoed(message(ref="r-1"), "r-1") == []
    assert names(checks.ref_is_echoed(message(), "r-1")) == {"ref_is_echoed"}


@pytest.mark.parametrize(
    ("status", "body", "pointer"),
    [
        (400, {"error": "Bad Request", "status": 400}, "/message"),
        (400, {"message": [], "statusCode": 400}, "/message"),
        (404, {"message": "Message not found", "statusCode": 400}, "/statusCode"),
        (401, {"message": "Unauthorized", "statusCode": True}, "/statusCode"),
        (400, {"message": "x", "statusCode": 400, "error": 400}, "/error"),
        (500, "Internal Server Error", ""),
    ],
)
def test_error_shape_violations(status: int, body: Any, pointer: str) -> None:
    [failure] = checks.error_has_nestjs_shape(status, body)
    assert failure.pointer == pointer
    assert "NestJS" in failure.message


@pytest.mark.parametrize(
    "body",
    [
        {"message": "Unauthorized", "statusCode": 401},
        {"message": ["n must not be greater than 4"], "error": "Bad Request", "statusCode": 401},
    ],
)
def test_error_shapes_nestjs_sends(body: dict[str, Any]) -> None:
    assert checks.error_has_nestjs_shape(401, body) == []


def test_progress_paths_agree_fully_once_final_and_on_identity_before() -> None:
    assert checks.progress_paths_agree(message(progress=10), message(progress=20)) == []
    [who] = checks.progress_paths_agree(message(), message(prompt="other"))
    assert who.pointer == "/prompt"
    [final] = checks.progress_paths_agree(message("DONE"), message("DONE", uri=IMG + "?x"))
    assert "disagree on uri" in final.message
    assert final.operation == checks.FETCH_LEGACY


def test_webhook_must_equal_final_get() -> None:
    final = message("DONE")
    assert checks.webhook_matches_final(dict(final), final) == []
    [diff] = checks.webhook_matches_final(dict(final, progress=99), final)
    assert diff.pointer == "/progress"
    assert diff.expected == 100
    assert diff.actual == 99
    assert names(checks.webhook_matches_final("nope", final)) == {"webhook_matches_final"}


def test_rejection_must_be_400_naming_the_field() -> None:
    assert (
        checks.rejection_names_field(400, {"message": ["n must not be greater than 4"]}, rule="n.maximum", field="n")
        == []
    )
    [accepted] = checks.rejection_names_field(200, {}, rule="n.maximum", field="n")
    assert "accepted a body that breaks rule n.maximum" in accepted.message
    [vague] = checks.rejection_names_field(400, {"message": "Bad Request"}, rule="width.multipleOf", field="width")
    assert "does not name the field 'width'" in vague.message


def test_matches_schema_names_pointer_and_keyword() -> None:
    [failure] = checks.matches_schema("Message", message(progress=101))
    assert failure.pointer == "/progress"
    assert "maximum" in failure.message
    assert checks.matches_schema("webhook:messageUpdate", message("DONE")) == []


def test_every_check_is_documented() -> None:
    functions = {name for name in checks.__all__ if name in checks.CHECKS}
    assert functions <= set(checks.CHECKS)
    assert all(text and text[0].islower() for text in checks.CHECKS.values())


def test_raise_for_raises_an_assertion_error_listing_every_failure() -> None:
    checks.raise_for([])
    with pytest.raises(ContractViolation) as info:
        checks.raise_for(checks.check_history([message("DONE", progress=90, uri="x")]))
    assert isinstance(info.value, AssertionError)
    assert {"done_progress_is_100", "done_has_images"} <= {f.check for f in info.value.failures}


def test_the_mock_passes_check_history_over_a_whole_job() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    app = create_app(Settings(job_seconds=3, api_keys=("sk-test",)), clock=clock)

    async def follow() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"Authorization": "Bearer sk-test"}
        ) as c:
            created = (await c.post("/api/v1/flux/imagine", json={"prompt": "a fox", "n": 3, "ref": "r"})).json()
            history = []
            while not history or history[-1]["status"] not in ("DONE", "FAIL"):
                history.append((await c.get(f"/api/v1/message/fetch/{created['messageId']}")).json())
                clock.advance(0.4)
            return history

    history = asyncio.run(follow())
    assert len(history) > 5
    assert history[-1]["status"] == "DONE"
    assert checks.check_history(history, n=3, message_id=history[0]["messageId"], ref="r") == []
