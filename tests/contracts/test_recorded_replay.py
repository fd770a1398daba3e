"""``serve --replay``: a recording of a real session (through the proxy) replays identically."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from proxy_session import AUTH, IMAGINE, PATHS, UNKNOWN, proxy_app, session, upstream

from mock_server import HarError, Settings, SettingsError, VirtualClock, create_app, load_har
from mock_server.domain.records.har import REDACTED
from mock_server.run.server import banner
from mock_server.web.middleware.replay import body_differences, same_body

pytestmark = pytest.mark.anyio
Seen = list[tuple[str, str, int, bytes]]


def recorder(seen: Seen) -> dict[str, list[object]]:
    async def note(response: httpx.Response) -> None:
        await response.aread()
        seen.append((response.request.method, response.request.url.path, response.status_code, response.content))

    return {"response": [note]}


async def record(path: Path, redact: tuple[str, ...] = ()) -> Seen:
    seen: Seen = []
    clock = VirtualClock()
    app = proxy_app(upstream(None, clock), clock, record=str(path), redact=redact)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", event_hooks=recorder(seen)) as c:
        await session(c, clock)
    app.state.recorder.close()
    return seen


async def test_a_recorded_session_replays_identically(tmp_path: Path) -> None:
    har = tmp_path / "session.har"
    recorded = await record(har)
    assert len(load_har(har)) == len(recorded)
    replayed: Seen = []
    app = create_app(Settings(replay=str(har)), clock=VirtualClock(start=0))
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", event_hooks=recorder(replayed)) as c:
        await session(c, VirtualClock())
    assert replayed == recorded
    assert sum(1 for m, p, _, _ in recorded if m == "GET" and p.startswith(PATHS[0][:-2])) > 4  # a poll sequence


async def test_redacted_values_replay_redacted(tmp_path: Path) -> None:
    har = tmp_path / "session.har"
    recorded = await record(har, redact=("/ref",))
    assert any(b'"ref":"staging-1"' in body for *_, body in recorded)  # the client saw the real value
    assert b"staging-1" not in har.read_bytes()


async def test_unrecorded_requests_are_a_404_or_the_mock_by_flag(tmp_path: Path) -> None:
    har = tmp_path / "session.har"
    await record(har)
    for miss, status in (("404", 404), ("mock", 200)):
        app = create_app(Settings(replay=str(har), replay_miss=miss), clock=VirtualClock())  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
            upscale = {"image": "https://x.test/a.png", "scale": 2}
            answer = await client.post("/api/v1/flux/upscale", json=upscale, headers=AUTH)
        assert answer.status_code == status, miss
        if status == 404:
            assert str(har) in answer.json()["message"]
    known = create_app(Settings(replay=str(har)), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(known), base_url="http://127.0.0.1") as client:
        first = await client.get(PATHS[0].format(UNKNOWN), headers=AUTH)
        assert first.status_code == 404
        assert first.json()["message"] == "Message not found"  # the recorded answer
        again = await client.post(IMAGINE, json={"prompt": "a red fox", "n": 5}, headers=AUTH)
        assert again.json()["details"][0]["pointer"] == "/n"


def test_a_broken_recording_or_setting_says_what_is_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "bad.har"
    bad.write_text('{"log": {"entries": [{"request": {}}]}}')
    with pytest.raises(HarError, match=r"log.entries\[0\] is not a HAR 1.2 entry"):
        create_app(Settings(replay=str(bad)))
    with pytest.raises(HarError, match="Cannot read the recording"):
        load_har(tmp_path / "missing.har")
    with pytest.raises(SettingsError, match="--replay-miss"):
        Settings(replay_miss="maybe")  # type: ignore[arg-type]


async def test_a_body_that_matches_nothing_is_a_404_naming_the_closest_recorded_request(tmp_path: Path) -> None:
    # The session recorded 400s for {"prompt", "n": 5} and {"prompt", "width": 1001}: a body without width must
    # not get the recorded 400 about width (or any other recorded answer for the path).
    har = tmp_path / "session.har"
    await record(har)
    app = create_app(Settings(replay=str(har)), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        missed = await client.post(IMAGINE, json={"prompt": "a red fox", "width": 512, "height": 768}, headers=AUTH)
        same = await client.post(IMAGINE, json={"width": 1001, "prompt": "a red fox"}, headers=AUTH)  # key order
    assert missed.status_code == 404
    message = missed.json()["message"]
    assert message.startswith(f"POST {IMAGINE} (with this body) is not in the recording {har}")
    assert f"the closest recorded request is POST {IMAGINE} (body: " in message
    assert "/height recorded absent, sent 768" in message
    assert "--replay-miss mock" in message
    assert same.status_code == 400
    assert same.json()["details"][0]["pointer"] == "/width"
    mock = create_app(Settings(replay=str(har), replay_miss="mock", job_seconds=0), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(mock), base_url="http://127.0.0.1") as client:
        fresh = await client.post(IMAGINE, json={"prompt": "a red fox", "width": 512, "height": 768}, headers=AUTH)
    assert fresh.status_code == 200
    assert fresh.json()["success"] is True  # the mock's own answer


async def test_a_wrong_method_or_path_names_what_differs(tmp_path: Path) -> None:
    har = tmp_path / "session.har"
    await record(har)
    app = create_app(Settings(replay=str(har)), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        wrong_path = await client.post("/api/v1/flux/imagin", json={"prompt": "a red fox", "n": 5}, headers=AUTH)
        wrong_method = await client.put(IMAGINE, json={"prompt": "a red fox", "n": 5}, headers=AUTH)
    assert wrong_path.status_code == wrong_method.status_code == 404
    assert f"path: recorded {IMAGINE}, sent /api/v1/flux/imagin" in wrong_path.json()["message"]
    assert "method: recorded POST, sent PUT" in wrong_method.json()["message"]


def test_same_body_compares_json_values_and_lets_redacted_values_match() -> None:
    assert same_body({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1})
    assert same_body({"ref": REDACTED, "a": 1}, {"ref": "staging-1", "a": 1})
    assert not same_body({"a": 1}, {"a": 1, "b": 2})
    assert not same_body({"a": 1}, {"a": True})
    assert not same_body(None, {"a": 1})
    assert body_differences({"a": 1, "c": 3}, {"a": 2, "b": 2}) == [
        "/a recorded 1, sent 2",
        "/c recorded 3, sent absent",
        "/b recorded absent, sent 2",
    ]


async def test_the_banner_names_the_recording_and_a_try_line_that_replays(tmp_path: Path) -> None:
    har = tmp_path / "staging.har"
    await record(har)
    settings = Settings(replay=str(har))
    text = banner(settings)
    entries = load_har(har)
    assert f"REPLAYING {len(entries)} recorded exchange(s) from {har}" in text
    assert "a 404 naming the closest recorded request" in text
    assert "a red fox" not in text.split("try (recorded")[0]  # the ordinary create example is gone
    line = next(li for li in text.splitlines() if "try (recorded, answered 200)" in li)
    # The try-line's request, sent to the replaying app, gets a recorded 2xx answer.
    method = line.split("-X ")[1].split()[0]
    url = line.split("'")[1]
    body = line.split("-d '")[1].rstrip("'") if "-d '" in line else None
    app = create_app(settings, clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
        answer = await client.request(
            method,
            url.replace(settings.base_url, ""),
            content=body,
            headers=AUTH | {"Content-Type": "application/json"},
        )
    assert answer.status_code == 200, answer.text
    assert "replay-miss mock" in banner(Settings(replay=str(har), replay_miss="mock"))
