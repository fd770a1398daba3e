"""A recording judged on its own: schema breaks and the proxy's checks, each naming the rule and the exchange."""

from __future__ import annotations

import json

from contracts.core.schema import contract
from contracts.drift.recording import exchange, judge
from mock_server import HarEntry, Operations

JOB = "5d1d0e9a-3c1b-4c44-9a3c-1f2e3d4c5b6a"
AUTH = (("Authorization", "Bearer [REDACTED]"),)


def entry(at: float, method: str, path: str, status: int, body: object, sent: object = None) -> HarEntry:
    raw = json.dumps(sent).encode() if sent is not None else b""
    headers = (("content-type", "application/json"),)
    return HarEntry(at, method, f"https://api.test{path}", AUTH, raw, status, headers, json.dumps(body).encode())


def message(status: str, progress: int, **extra: object) -> dict[str, object]:
    times = {"createdAt": "2025-01-01T00:00:00.000Z", "updatedAt": "2025-01-01T00:00:01.000Z"}
    return {"messageId": JOB, "status": status, "progress": progress, **times, **extra}


def test_a_recorded_exchange_reads_as_a_proxied_one() -> None:
    seen = exchange(
        entry(1.0, "GET", f"/api/v1/message/fetch/{JOB}", 200, message("QUEUED", 0)), Operations(contract())
    )
    assert (seen.role, seen.operation_id, seen.message_id, seen.had_credentials) == ("poll", "fetchMessage", JOB, True)


def test_breaks_are_errors_naming_the_check_or_the_schema_rule_and_the_exchange() -> None:
    created = {"success": True, "messageId": JOB, "createdAt": "2025-01-01T00:00:00.000Z"}
    poll = f"/api/v1/message/fetch/{JOB}"
    entries = [
        entry(0.0, "POST", "/api/v1/flux/imagine", 200, created, {"prompt": "a fox", "n": 2}),
        entry(1.0, "GET", poll, 200, message("PROCESSING", 40)),
        entry(2.0, "GET", poll, 200, message("PROCESSING", 20)),
        entry(
            3.0, "GET", poll, 200, message("DONE", 100, uri="https://cdn.test/a.png", images=["https://cdn.test/a.png"])
        ),
        entry(4.0, "GET", "/api/v1/nova/images", 200, {"data": "not a list"}),  # an inline schema
    ]
    found = {(f.kind, f.rule, f.request) for f in judge(entries, Operations(contract()))}
    assert ("contract", "progress_never_decreases", "#3 GET /api/v1/message/fetch/{messageId}") in found
    assert ("contract", "done_has_images", "#4 GET /api/v1/message/fetch/{messageId}") in found  # 1 image of n=2
    assert {f[0] for f in found if f[2].startswith("#5")} == {"rule-broken"}
    assert all(f[0] in ("contract", "rule-broken") for f in found)
