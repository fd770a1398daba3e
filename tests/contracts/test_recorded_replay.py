"""``serve --replay``: a recording of a real session (through the proxy) replays identically."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from proxy_session import AUTH, IMAGINE, PATHS, UNKNOWN, proxy_app, session, upstream

from mock_server import HarError, Settings, SettingsError, VirtualClock, create_app, load_har

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
    with pytest.raises(SettingsError, match="replay_miss"):
        Settings(replay_miss="maybe")  # type: ignore[arg-type]
