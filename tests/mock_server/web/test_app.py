"""The HTTP surface of the mock, in-process, on a virtual clock."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

import httpx
import pytest
from PIL import Image

from mock_server import JobStatus, Settings, VirtualClock, create_app

pytestmark = pytest.mark.anyio

IMAGINE = "/api/v1/flux/imagine"
FETCH = "/api/v1/message/fetch/{}"
LEGACY = "/api/v1/midjourney/message/{}"


async def create(api: httpx.AsyncClient, **body: object) -> str:
    response = await api.post(IMAGINE, json={"prompt": "a red fox", **body})
    assert response.status_code == 200, response.text
    return str(response.json()["messageId"])


async def test_create_returns_documented_shape(api: httpx.AsyncClient) -> None:
    response = await api.post(IMAGINE, json={"prompt": "a red fox"})
    body = response.json()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert set(body) == {"success", "messageId", "createdAt"}
    assert body["success"] is True
    assert uuid.UUID(body["messageId"]).version == 4
    assert body["createdAt"] == "2025-06-15T15:06:40.000Z"  # the virtual clock, in the docs' ms-Z form


async def test_job_walks_through_statuses_on_both_paths(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    mid = await create(api, n=3, ref="r-1")
    seen = []
    for _ in range(5):
        new, old = (await api.get(FETCH.format(mid))).json(), (await api.get(LEGACY.format(mid))).json()
        assert new == old
        seen.append((new["status"], new["progress"]))
        clock.advance(1)
    assert seen[0] == ("PROCESSING", 0)
    assert seen[1][0] == "PROCESSING"
    assert 0 < seen[1][1] < 100
    assert seen[-1] == ("DONE", 100)
    done = (await api.get(FETCH.format(mid))).json()
    assert len(done["images"]) == 3
    assert done["uri"] == done["images"][0]
    assert done["ref"] == "r-1"
    assert done["updatedAt"] >= done["createdAt"]


async def test_queued_when_concurrency_is_used_up(clock: VirtualClock) -> None:
    app = create_app(Settings(concurrency=1, job_seconds=5), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers={"Authorization": "Bearer k"}) as c:
        first = (await c.post(IMAGINE, json={"prompt": "a"})).json()["messageId"]
        second = (await c.post(IMAGINE, json={"prompt": "b"})).json()["messageId"]
        assert (await c.get(FETCH.format(second))).json()["status"] == "QUEUED"
        clock.advance(5)
        assert (await c.get(FETCH.format(first))).json()["status"] == "DONE"
        assert (await c.get(FETCH.format(second))).json()["status"] == "PROCESSING"


async def test_timeout_shorter_than_the_job_fails(api: httpx.AsyncClient, clock: VirtualClock, app: object) -> None:
    slow = create_app(Settings(job_seconds=30), clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=slow), base_url="http://t", headers={"Authorization": "Bearer k"}
    ) as c:
        mid = (await c.post(IMAGINE, json={"prompt": "a", "timeout": 10})).json()["messageId"]
        clock.advance(10)
        body = (await c.get(FETCH.format(mid))).json()
    assert body["status"] == "FAIL"
    assert "timed out after 10 seconds" in body["error"]
    assert "images" not in body


@pytest.mark.parametrize(
    ("fmt", "mime", "pil"), [("png", "image/png", "PNG"), ("webp", "image/webp", "WEBP"), ("jpg", "image/jpeg", "JPEG")]
)
async def test_images_are_real_and_sized(
    api: httpx.AsyncClient, clock: VirtualClock, fmt: str, mime: str, pil: str
) -> None:
    mid = await create(api, n=2, width=512, height=256, output_format=fmt, output_quality="80")
    clock.advance(3)
    urls = (await api.get(FETCH.format(mid))).json()["images"]
    assert urls[0].startswith("http://127.0.0.1:8080/storage/v1/object/public/cdn/")
    assert urls[0].endswith(f"{mid}.{fmt}")
    blobs = []
    for url in urls:
        response = await api.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"] == mime
        image = Image.open(io.BytesIO(response.content))
        assert (image.format, image.size) == (pil, (512, 256))
        blobs.append(response.content)
    assert blobs[0] != blobs[1]
    assert (await api.get(urls[0])).content == blobs[0]  # deterministic


async def test_image_before_done_is_404(api: httpx.AsyncClient) -> None:
    mid = await create(api)
    response = await api.get(f"/storage/v1/object/public/cdn/{mid}.png")
    assert response.status_code == 404
    assert "not DONE" in response.json()["message"]


async def test_upscale_lifecycle(api: httpx.AsyncClient, clock: VirtualClock) -> None:
    response = await api.post("/api/v1/flux/upscale", json={"image": "https://example.com/x.png", "scale": 2})
    assert response.status_code == 200
    mid = response.json()["messageId"]
    clock.advance(3)
    body = (await api.get(FETCH.format(mid))).json()
    assert body["status"] == "DONE"
    assert "prompt" not in body
    image = Image.open(io.BytesIO((await api.get(body["uri"])).content))
    assert image.size == (1024, 1024)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Basic abc"}, 401),
        ({"Authorization": "Bearer wrong-key"}, 401),
        ({"Authorization": "Bearer sk-test"}, 200),
    ],
)
async def test_auth(app: object, headers: dict[str, str], expected: int) -> None:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(IMAGINE, json={"prompt": "x"}, headers=headers)
    assert response.status_code == expected
    if expected == 401:
        assert response.json() == {"message": "Unauthorized", "statusCode": 401}
        (violation,) = app.state.services.journal.entries()[-1].violations  # type: ignore[attr-defined]
        assert violation.location == "header"
        assert violation.pointer == "/Authorization"


async def test_any_key_when_none_configured(clock: VirtualClock) -> None:
    transport = httpx.ASGITransport(app=create_app(Settings(), clock=clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post(IMAGINE, json={"prompt": "x"}, headers={"Authorization": "Bearer anything"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "status", "needle"),
    [
        ({"json": {"n": 9}}, 400, "Prompt is required."),
        ({"content": b"{", "headers": {"content-type": "application/json"}}, 400, "not valid JSON"),
        ({"content": b"", "headers": {"content-type": "application/json"}}, 400, "body is missing"),
        ({"content": b"prompt=x", "headers": {"content-type": "text/plain"}}, 415, "application/json"),
        ({"json": ["prompt"]}, 400, "body must be an object"),
        ({"content": b"x" * (1024 * 1024 + 1), "headers": {"content-type": "application/json"}}, 413, "limit"),
    ],
)
async def test_bad_bodies_get_clear_4xx(
    api: httpx.AsyncClient, kwargs: dict[str, object], status: int, needle: str
) -> None:
    response = await api.post(IMAGINE, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == status
    body = response.json()
    assert body["statusCode"] == status
    text = body["message"] if isinstance(body["message"], str) else " ".join(body["message"])
    assert needle in text


async def test_validation_error_body_and_journal(api: httpx.AsyncClient, app: object) -> None:
    response = await api.post(IMAGINE, json={"prompt": "x", "n": 5, "width": 1001})
    body = response.json()
    assert body["message"] == ["n must not be greater than 4", "width must be divisible by 8"]
    assert body["error"] == "Bad Request"
    assert [d["pointer"] for d in body["details"]] == ["/n", "/width"]
    entry = app.state.services.journal.entries()[-1]  # type: ignore[attr-defined]
    assert entry.status == 400
    assert entry.operation_id == "fluxImagine"
    assert [(v.pointer, v.rule, v.value) for v in entry.violations] == [
        ("/n", "maximum", 5),
        ("/width", "multipleOf", 1001),
    ]
    assert all(v.hint for v in entry.violations)


async def test_journal_keeps_the_job_fields_the_mock_used(api: httpx.AsyncClient, app: object) -> None:
    # A prompt longer than the body excerpt: the journal still knows the timeout and n that were used.
    response = await api.post(IMAGINE, json={"prompt": "x" * 5000, "timeout": 30, "n": 2})
    assert response.status_code == 200
    entry = app.state.services.journal.entries()[-1]  # type: ignore[attr-defined]
    assert entry.body is not None
    assert len(entry.body) < 5000
    assert entry.job is not None
    assert (entry.job["kind"], entry.job["timeout"], entry.job["n"]) == ("imagine", 30, 2)
    assert "prompt" not in entry.job
    assert entry.as_dict()["job"]["width"] == 1024


async def test_message_ids(api: httpx.AsyncClient) -> None:
    bad = await api.get(FETCH.format("not-a-uuid"))
    assert bad.status_code == 400
    assert bad.json()["message"] == ["messageId must be a UUID"]
    missing = await api.get(FETCH.format(uuid.uuid4()))
    assert missing.status_code == 404
    assert missing.json() == {"message": "Message not found", "error": "Not Found", "statusCode": 404}


async def test_other_accounts_cannot_read_a_job(clock: VirtualClock) -> None:
    transport = httpx.ASGITransport(app=create_app(Settings(), clock=clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        mid = (await client.post(IMAGINE, json={"prompt": "x"}, headers={"Authorization": "Bearer a"})).json()[
            "messageId"
        ]
        response = await client.get(FETCH.format(mid), headers={"Authorization": "Bearer b"})
    assert response.status_code == 404


async def test_unknown_route_and_method(api: httpx.AsyncClient) -> None:
    typo = await api.post("/api/v1/flux/imagin", json={})
    assert typo.status_code == 404
    assert typo.json()["message"] == "Cannot POST /api/v1/flux/imagin; did you mean POST /api/v1/flux/imagine?"
    wrong = await api.delete(IMAGINE)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert wrong.json()["statusCode"] == 405


async def test_same_seed_same_ids(clock: VirtualClock) -> None:
    ids = []
    for _ in range(2):
        transport = httpx.ASGITransport(app=create_app(Settings(seed=42), clock=clock))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers={"Authorization": "Bearer k"}
        ) as c:
            ids.append([(await c.post(IMAGINE, json={"prompt": "x"})).json()["messageId"] for _ in range(3)])
    assert ids[0] == ids[1]


async def test_offset_timestamps(clock: VirtualClock) -> None:
    transport = httpx.ASGITransport(app=create_app(Settings(timestamp_format="offset"), clock=clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers={"Authorization": "Bearer k"}) as c:
        body = (await c.post(IMAGINE, json={"prompt": "x"})).json()
    assert body["createdAt"] == "2025-06-15T15:06:40+00:00"


async def test_finished_message_is_rendered_once_and_forcing_still_wins(
    api: httpx.AsyncClient, clock: VirtualClock, app: object
) -> None:
    mid = await create(api, n=2)
    clock.advance(3)
    first = await api.get(FETCH.format(mid))
    svc = app.state.services  # type: ignore[attr-defined]
    job = svc.jobs.get(mid)
    assert job.final_body == first.content  # cached at the first terminal poll
    clock.advance(100)
    assert (await api.get(LEGACY.format(mid))).content == first.content
    svc.jobs.force(mid, JobStatus.FAIL, 42, "forced")
    forced = (await api.get(FETCH.format(mid))).json()
    assert (forced["status"], forced["progress"], forced["error"]) == ("FAIL", 42, "forced")
    svc.jobs.release(mid)
    assert (await api.get(FETCH.format(mid))).content == first.content


async def test_processing_message_is_not_cached(api: httpx.AsyncClient, clock: VirtualClock, app: object) -> None:
    mid = await create(api)
    clock.advance(1)
    await api.get(FETCH.format(mid))
    assert app.state.services.jobs.get(mid).final_body is None  # type: ignore[attr-defined]
    clock.advance(1)
    assert (await api.get(FETCH.format(mid))).json()["progress"] > 33


def test_architecture_md_states_the_middleware_order_create_app_builds(tmp_path: Path) -> None:
    # The order is written once in prose (ARCHITECTURE.md) and built once in code (create_app); this holds them
    # together, with every optional layer switched on.
    from mock_server import HarRecorder

    recording = tmp_path / "empty.har"
    HarRecorder(recording).close()
    app = create_app(Settings(replay=str(recording), rate_limit="documented"), clock=VirtualClock())
    words = {
        "JournalMiddleware": "journal",
        "ReplayMiddleware": "replay",
        "RateLimitMiddleware": "rate limit",
        "FastLane": "fast lane",
        "SelectionMiddleware": "selection",
        "FaultMiddleware": "faults",
    }
    built = [*(words[m.cls.__name__] for m in app.user_middleware), "router", "auth", "endpoint"]  # type: ignore[attr-defined]
    text = (Path(__file__).resolve().parents[3] / "ARCHITECTURE.md").read_text(encoding="utf-8")
    written = re.search(r"Middleware order, outermost first[^\n]*\n([^\n]+)\.", text)
    assert written is not None
    assert [w.strip() for w in written.group(1).split("→")] == built
