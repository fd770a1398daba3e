"""The dashboard's feed (`dashboard.stream.Feed`): batching, clock-driven job state, resets, and no cost unwatched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from mock_server import MockControl, RequestRecorded, VirtualClock
from mock_server.web.dashboard.stream import Feed
from mock_server.web.dashboard.views import JobFilter

pytestmark = pytest.mark.anyio


def _parse(frame: bytes) -> tuple[str, Any]:
    lines = dict(line.split(": ", 1) for line in frame.decode().strip().splitlines() if ": " in line)
    return lines.get("event", ""), orjson.loads(lines["data"]) if "data" in lines else None


async def _until(events: AsyncIterator[bytes], name: str, limit: int = 20) -> Any:
    for _ in range(limit):
        event, data = _parse(await anext(events))
        if event == name:
            return data
    raise AssertionError(f"no {name} event within {limit} frames")


def _feed(app: Starlette, **kwargs: Any) -> AsyncIterator[bytes]:
    control: MockControl = app.state.control
    return Feed(control, kwargs.pop("wanted", JobFilter()), flush_s=0.001, **kwargs).events()


async def test_job_progress_moves_with_the_clock_without_any_request(
    app: Starlette, api: httpx.AsyncClient, clock: VirtualClock
) -> None:
    message_id = (await api.post("/api/v1/flux/imagine", json={"prompt": "fox"})).json()["messageId"]
    events = _feed(app)
    jobs = await _until(events, "jobs")
    assert [(r["messageId"], r["status"], r["progress"]) for r in jobs["rows"]] == [(message_id, "PROCESSING", 0)]
    clock.advance(1.5)  # job_seconds=3
    jobs = await _until(events, "jobs")
    assert jobs["rows"][0]["progress"] == 50
    assert jobs["rows"][0]["deadlineIn"] == 900 - 1.5
    await events.aclose()  # type: ignore[attr-defined]


async def test_an_unchanged_view_is_not_sent_again(app: Starlette, clock: VirtualClock) -> None:
    events = _feed(app, lifetime_s=0.05)
    names = [_parse(frame)[0] async for frame in events]
    assert names.count("jobs") == 1
    assert names.count("health") == 1  # a virtual clock that nobody moves: nothing changes
    assert names[-1] == "reconnect"  # the stream ends by itself; the page reconnects


async def test_heavy_traffic_is_batched_newest_first_with_a_skipped_count(app: Starlette) -> None:
    control: MockControl = app.state.control
    events = _feed(app)
    assert (await _until(events, "requests"))["entries"] == []  # the initial tail
    await _until(events, "jobs")  # the first flush is done; now a burst arrives between two flushes
    journal = control.services.journal
    for i in range(1, 501):
        journal.append(
            RequestRecorded(
                seq=journal.next_seq(), at=0.0, method="GET", path=f"/{i}", query="", status=200, duration_ms=0.1
            )
        )
    batch = await _until(events, "requests")
    assert len(batch["entries"]) == 50
    assert batch["skipped"] == 450
    assert batch["entries"][-1]["path"] == "/500"
    await events.aclose()  # type: ignore[attr-defined]


async def test_a_reset_sends_the_journal_again_from_scratch(app: Starlette, api: httpx.AsyncClient) -> None:
    control: MockControl = app.state.control
    await api.post("/api/v1/flux/imagine", json={"prompt": "one"})
    await api.post("/api/v1/flux/imagine", json={"prompt": "two"})
    events = _feed(app)
    first = await _until(events, "requests")
    assert [e["seq"] for e in first["entries"]] == [1, 2]
    await _until(events, "jobs")
    control.reset()
    await api.post("/api/v1/flux/imagine", json={"prompt": "three"})
    again = await _until(events, "requests")
    assert again["reset"] is True
    assert [e["seq"] for e in again["entries"]] == [1]
    await events.aclose()  # type: ignore[attr-defined]


async def test_a_job_feed_has_its_timeline_requests_and_images(
    app: Starlette, api: httpx.AsyncClient, clock: VirtualClock
) -> None:
    message_id = (await api.post("/api/v1/flux/imagine", json={"prompt": "fox"})).json()["messageId"]
    events = _feed(app, job_id=message_id)
    job = await _until(events, "job")
    # A free slot: the job starts at once, so there is no QUEUED step (the page's first paint tests a queued one).
    assert [t["step"] for t in job["timeline"]] == ["created", "PROCESSING → DONE", "timeout deadline"]
    assert len(job["requests"]) == 1
    assert job["images"] == []
    clock.advance(3)
    await api.get(f"/api/v1/message/fetch/{message_id}")
    job = await _until(events, "job")
    assert job["status"] == "DONE"
    assert job["images"] == [f"http://127.0.0.1:8080/storage/v1/object/public/cdn/{message_id}.png"]
    assert len(job["requests"]) == 2
    await events.aclose()  # type: ignore[attr-defined]
    missing = _feed(app, job_id="nope")
    assert (await _until(missing, "job")) == {"messageId": "nope", "missing": True}
    await missing.aclose()  # type: ignore[attr-defined]


async def test_filters_narrow_the_jobs_view(app: Starlette, api: httpx.AsyncClient) -> None:
    ok = (await api.post("/api/v1/flux/imagine", json={"prompt": "ok"})).json()["messageId"]
    doomed = (await api.post("/api/v1/flux/imagine", json={"prompt": "[mock:fail:10] no"})).json()["messageId"]
    app.state.control.advance(5)
    failed = _feed(app, wanted=JobFilter(status="FAIL"))
    assert [r["messageId"] for r in (await _until(failed, "jobs"))["rows"]] == [doomed]
    await failed.aclose()  # type: ignore[attr-defined]
    by_id = _feed(app, wanted=JobFilter(message_id=ok[:8]))
    assert [r["messageId"] for r in (await _until(by_id, "jobs"))["rows"]] == [ok]
    await by_id.aclose()  # type: ignore[attr-defined]
    by_key = _feed(app, wanted=JobFilter(key="sk-nobody"))
    assert (await _until(by_key, "jobs"))["rows"] == []
    await by_key.aclose()  # type: ignore[attr-defined]


async def test_nothing_is_subscribed_while_no_page_is_open(app: Starlette) -> None:
    control: MockControl = app.state.control
    journals = [control.services.journal, control.services.webhooks.journal]
    assert [len(j._subscribers) for j in journals] == [0, 0]
    events = _feed(app)
    await _until(events, "jobs")
    assert [len(j._subscribers) for j in journals] == [1, 1]
    await events.aclose()  # type: ignore[attr-defined]  # what Starlette does when the client goes away
    assert [len(j._subscribers) for j in journals] == [0, 0]


def test_filters_refuse_an_unknown_status() -> None:
    with pytest.raises(ValueError, match="one of QUEUED, PROCESSING, DONE, FAIL"):
        JobFilter.from_query({"status": "lost"})
    assert JobFilter.from_query({"status": "done", "key": " sk "}) == JobFilter(key="sk", status="DONE")


def test_a_log_tail_materialises_only_the_newest_entries() -> None:
    # The feed reads a full 10k journal's tail on every (re)connect: only the rows it sends are built.
    from mock_server.domain.records.log import BoundedLog

    built: list[int] = []

    def materialise(item: int) -> RequestRecorded:
        built.append(item)
        return RequestRecorded(seq=item, at=0.0, method="GET", path="/", query="", status=200, duration_ms=0.0)

    log: BoundedLog[RequestRecorded] = BoundedLog(maxlen=1000, materialise=materialise)
    for i in range(1, 1501):
        log.append(i)
    assert [e.seq for e in log.tail(3)] == [1498, 1499, 1500]
    assert built == [1498, 1499, 1500]
    assert len(log.tail(5000)) == 1000
