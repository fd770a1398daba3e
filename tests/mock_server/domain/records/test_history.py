"""The jobs a recording shows: creates, polls, follow-ups, and the state a client knew before an exchange."""

from __future__ import annotations

import json

from mock_server import HarEntry, Operations, load_spec, recorded_jobs

GRID, UPSCALE = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


def entry(at: float, method: str, path: str, answer: object, sent: object = None, status: int = 200) -> HarEntry:
    raw = json.dumps(sent).encode() if sent is not None else b""
    return HarEntry(at, method, f"https://api.test{path}", (), raw, status, (), json.dumps(answer).encode())


def test_creates_polls_and_a_cancel_that_makes_no_job() -> None:
    recording = [
        entry(0, "POST", "/api/v1/nova/imagine", {"success": True, "messageId": GRID}, {"prompt": "a lighthouse"}),
        entry(1, "GET", f"/api/v1/message/fetch/{GRID}", {"status": "PROCESSING", "progress": 30}),
        entry(2, "GET", f"/api/v1/midjourney/message/{GRID}", {"status": "done", "progress": 100}),
        entry(3, "POST", "/api/v1/nova/button", {"success": True, "messageId": UPSCALE}, {"messageId": GRID}),
        entry(4, "POST", "/api/v1/nova/button", {"success": True, "messageId": UPSCALE}, {"button": "Cancel Job"}),
        entry(5, "GET", f"/api/v1/message/fetch/{UPSCALE}", {"message": "Message not found"}, status=404),
    ]
    jobs = recorded_jobs(recording, Operations(load_spec()))
    assert [(j.kind, j.created, len(j.polls)) for j in jobs.values()] == [("mj-imagine", 0, 2), ("button", 3, 1)]
    grid = jobs[GRID]
    assert [p.state for p in grid.polls] == ["PROCESSING", "DONE"]  # case ignored
    before = grid.state_before(3)
    assert before is not None
    assert (before.state, before.progress) == ("DONE", 100)
    assert grid.state_before(1) is None
    assert grid.final is not None
    assert grid.final.index == 2
    assert jobs[UPSCALE].polls[0].state is None  # a 404 shows no state
