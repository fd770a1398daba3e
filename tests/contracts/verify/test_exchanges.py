"""Pairing the request journal with what the mock answered: the input of every client check."""

from __future__ import annotations

import httpx
import pytest

from contracts.verify.exchanges import Answer, AnswerRecorder, contract_routes, exchanges_from
from mock_server import RequestRecorded

JOB = "2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001"


def entry(seq: int, method: str, path: str, status: int = 200, **kw: object) -> RequestRecorded:
    return RequestRecorded(
        seq=seq, at=100.0 + seq, method=method, path=path, query="", status=status, duration_ms=1.0, **kw
    )  # type: ignore[arg-type]


def test_exchanges_pair_journal_entries_with_what_was_answered() -> None:
    poll = f"/api/v1/message/fetch/{JOB}"
    entries = [
        entry(1, "POST", "/api/v1/flux/imagine", operation_id="fluxImagine", message_id=JOB, job={"timeout": 30}),
        entry(2, "GET", poll, 429),  # refused by the rate limiter: no endpoint named it
        entry(3, "GET", poll, operation_id="fetchMessage", message_id=JOB),
    ]
    answers = [
        Answer("POST", "/api/v1/flux/imagine", 200, body={"success": True, "messageId": JOB}),
        Answer("GET", poll, 429, retry_after=1.0, body={"message": "ThrottlerException", "statusCode": 429}),
        Answer(
            "GET",
            poll,
            200,
            body={
                "messageId": JOB,
                "status": "DONE",
                "progress": 100,
                "uri": "http://x/a.png",
                "images": ["http://x/a.png", "http://x/b.png"],
            },
        ),
    ]
    create, throttled, done = exchanges_from(entries, answers, contract_routes())
    assert (create.is_create, create.job_status, create.job) == (True, None, {"timeout": 30})
    assert throttled.job is None
    assert (throttled.operation_id, throttled.message_id, throttled.retry_after) == ("fetchMessage", JOB, 1.0)
    assert throttled.job_status is None
    assert (done.job_status, done.progress, done.image_urls) == (
        "DONE",
        100,
        ("http://x/a.png", "http://x/a.png", "http://x/b.png"),
    )


@pytest.mark.anyio
async def test_the_answer_recorder_notes_status_retry_after_and_garbage() -> None:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        path = str(scope["path"])
        status, headers, body = (
            200,
            [(b"content-type", b"application/json")],
            b'{"status": "PROCESSING", "progress": 5}',
        )
        if path.endswith("/busy"):
            status, headers = 429, [*headers, (b"retry-after", b"2")]
        elif path.endswith("/cut"):
            body = body[:9]
        await send({"type": "http.response.start", "status": status, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": body})  # type: ignore[operator]

    recorder = AnswerRecorder(app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=recorder), base_url="http://t") as client:
        for path in ("/api/ok", "/api/busy", "/api/cut", "/__mock/health"):
            await client.get(path)
    ok, busy, cut = recorder.answers
    assert (ok.status, ok.body, ok.malformed) == (200, {"status": "PROCESSING", "progress": 5}, False)
    assert (busy.status, busy.retry_after) == (429, 2.0)
    assert cut.malformed


def test_a_dropped_request_has_no_status() -> None:
    # The journal writes 0 for a connection closed without an answer; the recorder saw no status line either.
    dropped = entry(1, "POST", "/api/v1/flux/imagine", 0, tags=("via:default", "disconnect", "dropped"))
    [with_answer] = exchanges_from([dropped], [Answer("POST", "/api/v1/flux/imagine", None)], contract_routes())
    [journal_only] = exchanges_from([dropped], [], contract_routes())
    assert with_answer.status is None
    assert journal_only.status is None
    assert journal_only.failed


def test_a_poll_refused_for_its_id_still_counts_as_a_poll_of_that_id() -> None:
    refused = entry(1, "GET", "/api/v1/message/fetch/None", 400, operation_id="fetchMessage")
    [exchange] = exchanges_from([refused], [], contract_routes())
    assert (exchange.is_poll, exchange.message_id) == (True, "None")
