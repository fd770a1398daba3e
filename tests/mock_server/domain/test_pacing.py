"""Pacing learned from recordings: one job's figures, a seeded draw, and ``serve --pace-from`` on a virtual clock."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from recordings import Recordings

from mock_server import (
    HarEntry,
    HarError,
    JobPace,
    KindPace,
    Operations,
    Pacing,
    RecordedJob,
    RecordedPoll,
    Settings,
    VirtualClock,
    create_app,
    load_spec,
)
from mock_server.domain.jobs import Timing
from mock_server.domain.pacing import job_pace, load_pacing
from mock_server.run.server import banner

T0 = 1_750_000_000.0
AUTH = {"Authorization": "Bearer sk-pace"}


def stamp(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(T0 + seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def poll(index: int, at: float, status: str, progress: int, updated: float | None = None) -> RecordedPoll:
    body = {"status": status, "progress": progress, "createdAt": stamp(0), "updatedAt": stamp(updated or at)}
    return RecordedPoll(index, T0 + at, 200, body)


def job(*polls: RecordedPoll) -> RecordedJob:
    return RecordedJob("m", "imagine", "fluxImagine", T0, 0, None, list(polls))


def test_queue_time_is_midway_between_the_last_queued_poll_and_the_next() -> None:
    pace = job_pace(job(poll(1, 1, "QUEUED", 0), poll(2, 3, "PROCESSING", 10), poll(3, 9, "DONE", 100, updated=8.2)))
    assert (pace.queued, pace.ended, pace.outcome, pace.progress) == (2.0, pytest.approx(8.2), "DONE", (10,))
    assert pace.runs == pytest.approx(6.2)


def test_time_to_the_end_is_updated_at_when_the_polls_around_the_end_allow_it_else_midway() -> None:
    believed = job_pace(job(poll(1, 4, "PROCESSING", 50), poll(2, 8, "DONE", 100, updated=6.0)))
    assert (believed.queued, believed.ended) == (0.0, pytest.approx(6.0))
    # An updatedAt that does not fit the polls (another clock, another meaning) is not believed.
    odd = job_pace(job(poll(1, 4, "PROCESSING", 50), poll(2, 8, "DONE", 100, updated=30.0)))
    assert odd.ended == pytest.approx(6.0)  # midway between 4 and 8
    never = job_pace(job(poll(1, 4, "processing", 50)))  # lowercase still shows the state
    assert (never.ended, never.outcome, never.progress) == (None, None, (50,))


def test_a_draw_follows_the_seed() -> None:
    recorded = tuple(JobPace(0.5, float(seconds), "DONE") for seconds in range(2, 12))
    kinds = {"imagine": KindPace("imagine", recorded)}

    def draws(seed: int) -> list[tuple[float, float]]:
        pacing = Pacing(kinds, seed=seed)
        return [(t.queued_extra, t.duration) for t in (pacing.timing("imagine", Timing(3.0)) for _ in range(8))]

    assert draws(3) == draws(3)  # the same seed and the same creates: the same recorded jobs
    assert draws(3) != draws(4)
    assert {d for d in draws(3)} <= {(0.5, s - 0.5) for s in range(2, 12)}


def test_other_kinds_keep_their_timing(recordings: Recordings) -> None:
    pacing = load_pacing((str(recordings.get()),), Operations(load_spec()), seed=3)
    assert pacing.timing("imagine", Timing(duration=3.0)).duration == pytest.approx(6.0)
    untouched = Timing(duration=3.0, queued_extra=1.0)
    assert pacing.timing("upscale", untouched) is untouched
    assert pacing.paced() == ["button", "imagine", "mj-imagine"]
    assert Pacing().timing("imagine", untouched) is untouched


@pytest.mark.anyio
async def test_serve_pace_from_finishes_a_new_flux_job_after_about_the_recorded_time(recordings: Recordings) -> None:
    clock = VirtualClock(start=T0)
    app = create_app(Settings(pace_from=(str(recordings.get()),), job_seconds=3.0, seed=5), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1", headers=AUTH) as api:
        flux = (await api.post("/api/v1/flux/imagine", json={"prompt": "a red fox"})).json()["messageId"]
        upscale = {"image": "https://example.com/a.png", "scale": 2}  # a kind the recording lacks
        other = (await api.post("/api/v1/flux/upscale", json=upscale)).json()["messageId"]

        async def status(message_id: str) -> str:
            answer = await api.get(f"/api/v1/message/fetch/{message_id}")
            return str(answer.json()["status"])

        clock.advance(3.0)
        assert (await status(flux), await status(other)) == ("PROCESSING", "DONE")
        clock.advance(2.8)
        assert await status(flux) == "PROCESSING"
        clock.advance(0.4)
        assert await status(flux) == "DONE"


def test_the_banner_names_the_paced_kinds_and_the_ones_that_keep_the_default(recordings: Recordings) -> None:
    path = str(recordings.get())
    settings = Settings(pace_from=(path,), job_seconds=3.0)
    text = banner(settings, load_pacing(settings.pace_from, Operations(load_spec())))
    assert f"paced from {path}: button 6.0 s (1 job); imagine 6.0 s (1 job); mj-imagine 6.0 s (1 job)" in text
    assert "not in the recording, so paced by --job-seconds (3 s): blend, command, describe" in text


def test_a_recording_with_no_finished_job_is_refused_naming_the_file_and_the_fix(tmp_path: Path) -> None:
    empty = tmp_path / "accounts.har"
    info = HarEntry(T0, "GET", "https://api.test/api/v1/subscription/account-info", (), b"", 200, (), b"{}")
    from mock_server import HarRecorder

    recorder = HarRecorder(empty)
    recorder.add(info)
    recorder.close()
    with pytest.raises(HarError, match=r"--pace-from .*accounts.har: the recording holds no job followed to DONE"):
        create_app(Settings(pace_from=(str(empty),)))
    with pytest.raises(HarError, match="Cannot read the recording"):
        create_app(Settings(pace_from=(str(tmp_path / "missing.har"),)))
    assert json.loads(empty.read_text())["log"]["entries"]
