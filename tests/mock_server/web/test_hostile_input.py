"""Hostile or broken input never takes the mock down: bounded parsing and bounded echoes (issue: hardening)."""

from __future__ import annotations

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from mock_server import Settings, VirtualClock, create_app
from mock_server.contract.problems import ECHO_CHARS, Violation, bounded
from mock_server.domain.validation import nesting_depth

pytestmark = pytest.mark.anyio

IMAGINE = "/api/v1/flux/imagine"
UPSCALE = "/api/v1/flux/upscale"


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("path", [IMAGINE, UPSCALE])
@pytest.mark.parametrize("levels", [33, 252, 300, 1000, 1023])
async def test_deep_json_is_a_400_naming_the_limit_and_the_journal_stays_readable(
    api: httpx.AsyncClient, app: Starlette, path: str, levels: int
) -> None:
    # orjson parses to depth 1024 but serialises only 254 levels, and jsonschema recurses per level: before the
    # limit, these answered 500 and broke GET /__mock/requests for the next 10,000 requests.
    body = '{"prompt": ' + nested(levels) + "}"
    response = await api.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["message"] == ["Request body nests more than 32 levels deep; the limit is 32 levels."]
    [detail] = answer["details"]
    assert (detail["rule"], detail["expected"]) == ("x-mock-max-depth", 32)
    assert len(orjson.dumps(answer)) < 4096
    for admin in ("/__mock/requests", "/__mock/violations"):
        read = await api.get(admin)
        assert read.status_code == 200, admin
    assert app.state.services.journal.entries()[-1].status == 400


async def test_depth_within_the_limit_is_validated_as_usual(api: httpx.AsyncClient) -> None:
    response = await api.post(
        IMAGINE, content='{"prompt": ' + nested(20) + "}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["rule"] == "type"  # the ordinary schema error, with a bounded echo


async def test_a_huge_value_is_echoed_truncated(api: httpx.AsyncClient) -> None:
    response = await api.post(IMAGINE, json={"prompt": "x", "aspect_ratio": "9" * 100_000})
    assert response.status_code == 400
    [detail] = response.json()["details"]
    assert len(detail["value"]) < ECHO_CHARS + 40
    assert detail["value"].endswith("(100000 characters)")


async def test_a_huge_unknown_key_is_echoed_truncated(api: httpx.AsyncClient) -> None:
    response = await api.post(IMAGINE, json={"prompt": "x", "k" * 50_000: 1})
    assert response.status_code == 400
    assert len(response.content) < 8192
    assert (await api.get("/__mock/requests")).status_code == 200


async def test_the_depth_limit_is_a_setting(clock: VirtualClock) -> None:
    app = create_app(Settings(seed=1, max_json_depth=3), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        headers = {"Authorization": "Bearer k", "Content-Type": "application/json"}
        response = await client.post(IMAGINE, content='{"prompt": [[[1]]]}', headers=headers)
    assert "the limit is 3 levels" in response.json()["message"][0]


def test_nesting_depth_counts_without_recursion() -> None:
    assert nesting_depth(1, 5) == 0
    assert nesting_depth({"a": [1, {"b": []}]}, 10) == 4
    deep: list[object] = []
    for _ in range(100_000):  # far past Python's recursion limit
        deep = [deep]
    assert nesting_depth(deep, 32) == 33  # stops counting just past the limit


def test_bounded_cuts_depth_items_and_strings() -> None:
    assert bounded("a" * 10) == "a" * 10
    assert bounded(list(range(25)))[-1] == "... (+5 more)"
    assert bounded({str(i): i for i in range(25)})["..."] == "+5 more key(s)"
    assert bounded([[[[[[1]]]]]]) == [[[["[... 1 item(s), nested too deep to show]"]]]]
    violation = Violation("body", "/x" * 1000, "type", "z" * 500, [[[[[[[1]]]]]]], "m" * 5000, "h")
    assert len(violation.message) < 1100
    assert len(orjson.dumps(violation.as_dict())) < 4096


# --- API keys are never shown whole ------------------------------------------------------------------------------

LONG_KEY = "sk-live-0123456789abcdefQz"


def test_mask_key() -> None:
    from mock_server.domain.records.journal import mask_key

    assert mask_key(LONG_KEY) == "sk-li…Qz"
    assert mask_key("sk-test") == "sk…st"
    assert mask_key("abc") == "…"
    assert mask_key(None) is None


@pytest.mark.parametrize(("show", "expected"), [("masked", "sk-li…Qz"), ("full", LONG_KEY)])
async def test_keys_are_masked_in_the_journal_jobs_and_credits_unless_asked(
    clock: VirtualClock, show: str, expected: str
) -> None:
    app = create_app(Settings(seed=1, show_keys=show), clock=clock)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        headers = {"Authorization": f"Bearer {LONG_KEY}"}
        assert (await client.post(IMAGINE, json={"prompt": "fox"}, headers=headers)).status_code == 200
        await client.post("/__mock/credits", json={"account": LONG_KEY, "balance": 12})
        answers = [await client.get(p) for p in ("/__mock/requests", "/__mock/jobs", "/__mock/credits")]
    requests, jobs, credits = (a.json() for a in answers)
    assert requests[-1]["account"] == expected
    assert jobs[-1]["account"] == expected
    assert credits["balances"] == {expected: 12}
    if show == "masked":
        assert all(LONG_KEY not in a.text for a in answers)


# --- early refusals on a real socket: answered before the body, then the connection is closed -------------------


def _exchange(port: int, head: bytes, timeout: float = 3.0) -> tuple[bytes, bool]:
    """Send only a request head; return the answer and whether the server then closed the connection."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        header, _, rest = data.partition(b"\r\n\r\n")
        length = int(
            next(line.split(b":")[1] for line in header.split(b"\r\n") if line.lower().startswith(b"content-length"))
        )
        while len(rest) < length:
            rest += sock.recv(65536)
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
    return header + b"\r\n\r\n" + rest, closed


@pytest.mark.parametrize(
    ("auth", "length", "status"),
    [
        (b"", b"104857600", b"401"),  # no key: 401 without reading the 100 MiB
        (b"Authorization: Bearer sk-wrong\r\n", b"1000", b"401"),
        (b"Authorization: Bearer sk-test\r\n", b"104857600", b"413"),  # declared over the limit: 413 at once
    ],
)
def test_refusals_come_before_the_body_and_close_the_connection(auth: bytes, length: bytes, status: bytes) -> None:
    from mock_server import LiveServer

    head = (
        b"POST /api/v1/flux/imagine HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + auth
        + b"Content-Length: "
        + length
        + b"\r\n\r\n"
    )
    with LiveServer(settings=Settings(api_keys=("sk-test",), seed=1)) as server:
        answer, closed = _exchange(server.port, head)
    assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]
    assert b"connection: close" in answer.lower()
    assert closed, "the server must close instead of reading or draining the unread body"


# --- per-key state is created for authenticated requests only -------------------------------------------------


async def test_unauthenticated_polls_with_poll_faults_create_no_state(clock: VirtualClock) -> None:
    # 100k polls of random ids with `X-Mock-Scenario: flaky:1000`, all 401, used to add 16 MB to a per-poll counter.
    import uuid

    app = create_app(Settings(seed=1, api_keys=("sk-test",)), clock=clock)
    svc = app.state.services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        for _ in range(300):
            headers = {"X-Mock-Scenario": "flaky:1000,credits:5", "Authorization": "Bearer sk-nobody"}
            response = await client.get(f"/api/v1/message/fetch/{uuid.uuid4()}", headers=headers)
            assert response.status_code == 401
    assert svc.scenarios._polls == {}
    assert svc.credits.snapshot() == {}
    assert len(svc.limiter._hits) == 0


def test_rate_limit_windows_are_bounded() -> None:
    from mock_server.domain import ratelimit

    limiter = ratelimit.RateLimiter(VirtualClock())
    for i in range(ratelimit.MAX_WINDOWS + 50):
        limiter.hit(f"key-{i}", "general")
    assert len(limiter._hits) == ratelimit.MAX_WINDOWS


BEYOND_64_BITS = "177094832676310207332662911375813640192"  # what plain `st run` sent (seed 11)


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        (f"/api/v1/discord/token/{BEYOND_64_BITS}", "id"),
        (f"/api/v1/nova/images?page={BEYOND_64_BITS}", "page"),
        (f"/api/v1/nova/images?page=-{BEYOND_64_BITS}", "page"),
        (f"/api/v1/midjourney/images?size={BEYOND_64_BITS}", "size"),
    ],
)
async def test_an_integer_beyond_64_bits_is_a_400_naming_the_parameter_and_its_range(
    api: httpx.AsyncClient, path: str, parameter: str
) -> None:
    # orjson writes integers of 64 bits at most: the echo of the sent value failed and the answer was a 500.
    response = await api.get(path)
    assert response.status_code == 400, response.text
    [detail] = response.json()["details"]
    assert detail["pointer"] == f"/{parameter}"
    assert detail["rule"] in ("minimum", "maximum")
    assert BEYOND_64_BITS in detail["value"]
    assert "from" in detail["hint"]  # the allowed range
    assert (await api.get("/__mock/requests")).status_code == 200  # the journal stays readable


def test_bounded_writes_huge_integers_as_their_digits() -> None:
    assert bounded(2**64) == str(2**64)
    assert bounded(-(2**63) - 1) == str(-(2**63) - 1)
    assert bounded(2**64 - 1) == 2**64 - 1
    assert bounded(True) is True
    orjson.dumps(bounded({"n": 10**40}))
