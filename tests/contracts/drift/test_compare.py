"""One answer compared with a reference answer: keys, types, status, error text and headers."""

from __future__ import annotations

from typing import Any

from contracts.drift.compare import Answer, compare

FETCH = ("GET", "/api/v1/message/fetch/{messageId}")
JSON = (("Content-Type", "application/json; charset=utf-8"),)


def kinds(recorded: Any, reference: Any, status: tuple[int, int] = (200, 200)) -> list[tuple[str, str, str]]:
    found = compare(
        "#2 GET /x", "fetchMessage", FETCH, Answer(status[0], recorded, JSON), Answer(status[1], reference, JSON)
    )
    return [(f.kind, f.severity, f.pointer) for f in found]


def test_equal_shapes_with_other_values_agree() -> None:
    assert (
        kinds({"status": "DONE", "progress": 100, "ref": "a"}, {"status": "PROCESSING", "progress": 3, "ref": "b"})
        == []
    )


def test_keys_and_types_that_differ_are_warnings() -> None:
    recorded = {"status": "DONE", "progress": "100", "extra": 1}
    reference = {"status": "DONE", "progress": 100, "images": ["u"]}
    assert kinds(recorded, reference) == [
        ("field-removed", "warning", "/images"),
        ("field-added", "warning", "/extra"),
        ("type-changed", "warning", "/progress"),
    ]


def test_another_status_is_an_error_and_error_texts_about_each_sides_own_job_agree() -> None:
    assert kinds({}, {}, (500, 200)) == [("status", "error", "")]
    ours = {"message": "Message 11111111-2222-4333-8444-555555555555 is not DONE", "statusCode": 409}
    theirs = {"message": "Message aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee is not DONE", "statusCode": 409}
    assert kinds(theirs, ours, (409, 409)) == []
    assert kinds({"message": "Conflict", "statusCode": 409}, ours, (409, 409)) == [
        ("error-text", "warning", "/message")
    ]


def test_headers_differ_as_info_and_volatile_ones_are_ignored() -> None:
    recorded = Answer(200, {}, (("content-type", "application/json"), ("date", "x"), ("x-upstream", "1")))
    reference = Answer(200, {}, (("Content-Type", "application/json; charset=utf-8"), ("date", "y")))
    (found,) = compare("#1 GET /x", None, FETCH, recorded, reference)
    assert (found.kind, found.severity, found.rule, found.recorded) == ("header", "info", "header:x-upstream", "1")
