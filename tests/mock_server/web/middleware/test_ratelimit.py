"""The documented rate limits: off by default; with --rate-limit documented, 429 + Retry-After per key."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from mock_server import MockControl, Settings, VirtualClock, create_app, load_spec
from mock_server.domain.operations import Operations
from mock_server.domain.ratelimit import RateLimiter, Window, bucket_of
from mock_server.domain.records.journal import mask_key

pytestmark = pytest.mark.anyio

IMAGINE = "/api/v1/flux/imagine"
FETCH = "/api/v1/message/fetch/{}"
THROTTLED = {"message": "ThrottlerException: Too Many Requests", "statusCode": 429}


@pytest.fixture
def limited_app(clock: VirtualClock) -> Starlette:
    return create_app(Settings(job_seconds=3, seed=1, rate_limit="documented"), clock=clock)


@pytest.fixture
async def limited(limited_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=limited_app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers={"Authorization": "Bearer a"}
    ) as c:
        yield c


def test_buckets() -> None:
    ops = Operations(load_spec())
    assert bucket_of(ops.classify("GET", "/api/v1/message/fetch/x").role) == "message"
    assert bucket_of(ops.classify("GET", "/api/v1/midjourney/message/x").role) == "message"
    assert bucket_of(ops.classify("POST", IMAGINE).role) == "general"
    assert bucket_of(ops.classify("POST", "/api/v1/flux/upscale").role) == "general"


def test_sliding_window_and_retry_after(clock: VirtualClock) -> None:
    limiter = RateLimiter(clock, {"general": Window(2, 10.0)})
    assert limiter.hit("k", "general") is None
    clock.advance(4)
    assert limiter.hit("k", "general") is None
    assert limiter.hit("k", "general") == 6  # the first hit leaves the window 10 s after it
    clock.advance(5.5)
    assert limiter.hit("k", "general") == 1  # 0.5 s left rounds up to a whole second
    clock.advance(0.5)
    assert limiter.hit("k", "general") is None
    assert limiter.hit("other", "general") is None  # per key


async def test_off_by_default(api: httpx.AsyncClient) -> None:
    statuses = [(await api.post(IMAGINE, json={"prompt": "x"})).status_code for _ in range(5)]
    assert statuses == [200] * 5


async def test_general_endpoints_allow_one_request_per_three_seconds(
    limited: httpx.AsyncClient, clock: VirtualClock
) -> None:
    assert (await limited.post(IMAGINE, json={"prompt": "x"})).status_code == 200
    refused = await limited.post(IMAGINE, json={"prompt": "x"})
    assert refused.status_code == 429
    assert refused.json() == THROTTLED
    assert refused.headers["retry-after"] == "3"
    clock.advance(2)
    assert (await limited.post(IMAGINE, json={"prompt": "x"})).headers["retry-after"] == "1"
    clock.advance(1)  # a client that honours Retry-After gets through: refusals do not extend the window
    assert (await limited.post(IMAGINE, json={"prompt": "x"})).status_code == 200


async def test_the_message_endpoint_allows_ten_per_second(limited: httpx.AsyncClient, clock: VirtualClock) -> None:
    message_id = (await limited.post(IMAGINE, json={"prompt": "x"})).json()["messageId"]
    statuses = [(await limited.get(FETCH.format(message_id))).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    clock.advance(1)
    assert (await limited.get(FETCH.format(message_id))).status_code == 200


async def test_limits_are_per_api_key(limited: httpx.AsyncClient) -> None:
    assert (await limited.post(IMAGINE, json={"prompt": "x"})).status_code == 200
    other = await limited.post(IMAGINE, json={"prompt": "x"}, headers={"Authorization": "Bearer b"})
    assert other.status_code == 200
    assert (await limited.post(IMAGINE, json={"prompt": "x"})).status_code == 429


async def test_throttled_requests_are_journalled_and_use_no_armed_rule(
    limited: httpx.AsyncClient, limited_app: Starlette
) -> None:
    control: MockControl = limited_app.state.control
    await limited.post(IMAGINE, json={"prompt": "x"})
    rule = control.arm("fail", count=1)
    await limited.post(IMAGINE, json={"prompt": "x"})
    entry = control.requests[-1]
    assert (entry.status, entry.account, entry.tags) == (429, mask_key("a"), ("rate-limited",))
    assert rule.remaining == 1


async def test_requests_without_a_key_are_left_to_auth(limited_app: Starlette) -> None:
    transport = httpx.ASGITransport(app=limited_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as anonymous:
        statuses = [(await anonymous.post(IMAGINE, json={"prompt": "x"})).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]


async def test_reset_forgets_the_windows(limited: httpx.AsyncClient, limited_app: Starlette) -> None:
    await limited.post(IMAGINE, json={"prompt": "x"})
    limited_app.state.control.reset()
    assert (await limited.post(IMAGINE, json={"prompt": "x"})).status_code == 200
