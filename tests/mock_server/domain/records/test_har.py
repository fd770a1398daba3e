"""HAR recordings: every exchange is flushed as it is added, so a file cut short by a crash is still read."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_server import HarEntry, HarError, HarRecorder, load_har, read_recording

T0 = 1_750_000_000.0


def entries(count: int) -> list[HarEntry]:
    body = b'{"success": true, "messageId": "m%d"}'
    return [
        HarEntry(T0 + i, "POST", "https://api.test/api/v1/flux/imagine", (("Authorization", "Bearer sk-secret"),),
                 b'{"prompt": "a fox"}', 200, (("content-type", "application/json"),), body % i)
        for i in range(count)
    ]  # fmt: skip


def unfinished(path: Path, count: int) -> HarRecorder:
    recorder = HarRecorder(path)
    for entry in entries(count):
        recorder.add(entry)
    return recorder  # not closed: what a SIGKILL leaves (the file object is never flushed again)


def test_a_finished_recording_is_complete(tmp_path: Path) -> None:
    unfinished(tmp_path / "a.har", 3).close()
    read = read_recording(tmp_path / "a.har")
    assert (len(read.entries), read.complete, read.note) == (3, True, None)
    assert b"sk-secret" not in (tmp_path / "a.har").read_bytes()


def test_each_exchange_is_on_disk_as_soon_as_it_is_added(tmp_path: Path) -> None:
    recorder = unfinished(tmp_path / "a.har", 3)
    try:
        read = read_recording(tmp_path / "a.har")
        assert [e.response_json()["messageId"] for e in read.entries] == ["m0", "m1", "m2"]
        assert not read.complete
        assert read.note is not None
        assert "cut short" in read.note
        assert "3 complete exchange(s)" in read.note
        assert len(load_har(tmp_path / "a.har")) == 3
    finally:
        recorder.close()


@pytest.mark.parametrize("cut", [1, 40, 200])
def test_a_partly_written_last_exchange_is_dropped_and_said(tmp_path: Path, cut: int) -> None:
    unfinished(tmp_path / "a.har", 2).close()
    finished = (tmp_path / "a.har").read_bytes()
    last = finished.rindex(b"{", 0, finished.rindex(b'"startedDateTime"'))  # where the last entry begins
    (tmp_path / "cut.har").write_bytes(finished[: last + cut])
    read = read_recording(tmp_path / "cut.har")
    assert len(read.entries) == 1
    assert read.dropped == cut
    assert read.note is not None
    assert f"last {cut} bytes" in read.note


def test_what_is_not_a_recording_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "empty.har").write_bytes(b"")
    assert read_recording(tmp_path / "empty.har").entries == []  # killed before the first exchange
    (tmp_path / "text.har").write_text("hello")
    with pytest.raises(HarError, match=r"text.har is not JSON"):
        read_recording(tmp_path / "text.har")


def test_serve_replay_answers_from_a_recording_cut_short(tmp_path: Path) -> None:
    import asyncio

    import httpx

    from mock_server import Settings, VirtualClock, create_app

    recorder = unfinished(tmp_path / "a.har", 2)
    try:
        app = create_app(Settings(replay=str(tmp_path / "a.har")), clock=VirtualClock())

        async def replayed() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
                body = {"prompt": "a fox"}
                return await client.post("/api/v1/flux/imagine", json=body, headers={"Authorization": "Bearer sk"})

        assert asyncio.run(replayed()).json()["messageId"] == "m0"
    finally:
        recorder.close()
