"""Wire faults: what each one does on the wire, in-process and on a real socket."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette

from mock_server import MockControl, Settings, VirtualClock, create_app
from mock_server.contract.problems import nest_body
from mock_server.domain.records.journal import mask_key
from mock_server.run.listener import bind_socket
from mock_server.run.server import LiveServer

pytestmark = pytest.mark.anyio

IMAGINE = "/api/v1/flux/imagine"
FETCH = "/api/v1/message/fetch/{}"
LEGACY = "/api/v1/midjourney/message/{}"


@pytest.fixture
def control(app: Starlette) -> MockControl:
    control: MockControl = app.state.control
    return control


@pytest.fixture
def sleeps(control: MockControl) -> list[float]:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    control.sleep = fake_sleep
    return slept


async def create(api: httpx.AsyncClient, prompt: str = "a red fox") -> str:
    response = await api.post(IMAGINE, json={"prompt": prompt})
    assert response.status_code == 200, response.text
    return str(response.json()["messageId"])


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"message": "Bad Request", "statusCode": 400}),
        (401, {"message": "Unauthorized", "statusCode": 401}),
        (429, {"message": "ThrottlerException: Too Many Requests", "statusCode": 429}),
        (500, {"message": "Internal server error", "statusCode": 500}),
        (502, {"message": "Bad Gateway", "statusCode": 502}),
        (503, {"message": "Service Unavailable", "statusCode": 503}),
    ],
)
def test_rejections_carry_the_nestjs_body(status: int, body: dict[str, object]) -> None:
    assert nest_body(status) == body


async def test_a_429_on_a_poll_asks_for_the_message_window(api: httpx.AsyncClient) -> None:
    message_id = await create(api)
    response = await api.get(FETCH.format(message_id), headers={"X-Mock-Scenario": "reject:429"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"


async def test_latency_uses_the_injected_sleep_and_not_the_mock_clock(
    api: httpx.AsyncClient, clock: VirtualClock, sleeps: list[float]
) -> None:
    before = clock.now()
    message_id = await create(api)
    await api.get(FETCH.format(message_id), headers={"X-Mock-Scenario": "latency:1500, latency:500"})
    assert sleeps == [2.0]
    assert clock.now() == before


async def test_truncated_json_is_a_prefix_of_the_real_answer(api: httpx.AsyncClient, control: MockControl) -> None:
    message_id = await create(api)
    whole = (await api.get(FETCH.format(message_id))).content
    cut = await api.get(FETCH.format(message_id), headers={"X-Mock-Scenario": "garbage:json"})
    assert cut.status_code == 200
    assert whole.startswith(cut.content)
    assert 0 < len(cut.content) < len(whole)
    assert int(cut.headers["content-length"]) == len(cut.content)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(cut.content)


async def test_flaky_counts_polls_per_job(api: httpx.AsyncClient, control: MockControl) -> None:
    control.arm("flaky:3")
    first, second = await create(api), await create(api)
    seen = []
    for _ in range(3):
        seen.append((await api.get(FETCH.format(first))).status_code)
        seen.append((await api.get(LEGACY.format(second))).status_code)
    assert seen == [200, 200, 200, 200, 503, 503]
    flaky = [e for e in control.requests if e.status == 503]
    assert {e.message_id for e in flaky} == {first, second}
    assert {e.account for e in flaky} == {mask_key("sk-test")}  # masked in the journal
    assert all(e.tags == ("flaky:3",) for e in flaky)


async def test_flaky_from_a_header_on_polls_of_a_plain_job(api: httpx.AsyncClient) -> None:
    message_id = await create(api)
    statuses = [
        (await api.get(FETCH.format(message_id), headers={"X-Mock-Scenario": "flaky:2"})).status_code for _ in range(4)
    ]
    assert statuses == [200, 503, 200, 503]


async def test_not_yet_hides_the_job_on_both_paths_then_shows_it(
    api: httpx.AsyncClient, clock: VirtualClock, control: MockControl
) -> None:
    response = await api.post(IMAGINE, json={"prompt": "x"}, headers={"X-Mock-Scenario": "not-yet:2"})
    message_id = response.json()["messageId"]
    assert (await api.get(FETCH.format(message_id))).status_code == 404
    clock.advance(1.9)
    assert (await api.get(LEGACY.format(message_id))).status_code == 404
    clock.advance(0.1)
    assert (await api.get(LEGACY.format(message_id))).status_code == 200
    hidden = [e for e in control.requests if e.status == 404]
    assert [(e.message_id, e.tags) for e in hidden] == [(message_id, ("not-yet:2",))] * 2


async def test_html_garbage_is_a_proxy_page(api: httpx.AsyncClient, control: MockControl) -> None:
    response = await api.get(
        FETCH.format("0" * 8 + "-0000-4000-8000-" + "0" * 12), headers={"X-Mock-Scenario": "garbage:html"}
    )
    assert response.status_code == 502
    assert response.text.startswith("<html>")
    assert "nginx" in response.text
    assert control.requests[-1].account == mask_key("sk-test")


async def test_reject_short_circuits_before_auth_and_journals_the_key(control: MockControl, app: Starlette) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as anonymous:
        response = await anonymous.post(
            IMAGINE, json={"prompt": "x"}, headers={"X-Mock-Scenario": "reject:503", "Authorization": "Bearer sk-other"}
        )
    assert response.status_code == 503
    entry = control.requests[-1]
    # The key is journalled; the body of a key auth would refuse is never read.
    assert (entry.status, entry.account, entry.body) == (503, mask_key("sk-other"), None)
    assert entry.tags == ("via:header", "reject:503")


# --- a real socket ---------------------------------------------------------------------------------------


def _raw_post(port: int, headers: str, body: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        request = (
            f"POST {IMAGINE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer sk-test\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
        ).encode() + body
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


def test_disconnect_closes_the_socket_without_a_byte() -> None:
    settings = Settings(job_seconds=0, seed=1, api_keys=("sk-test",))
    with LiveServer(settings=settings) as server:
        assert _raw_post(server.port, "X-Mock-Scenario: disconnect\r\n", b'{"prompt": "x"}') == b""
        assert _raw_post(server.port, "", b'{"prompt": "x [mock:disconnect]"}') == b""
        with httpx.Client(base_url=server.url, headers={"Authorization": "Bearer sk-test"}) as client:
            with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
                client.post(IMAGINE, json={"prompt": "x"}, headers={"X-Mock-Scenario": "disconnect"})
            assert client.post(IMAGINE, json={"prompt": "still serving"}).status_code == 200
            journal = client.get("/__mock/requests").json()
    assert sorted(e["status"] for e in journal) == [0, 0, 0, 200]
    assert all("dropped" in e["tags"] for e in journal if e["status"] == 0)


@pytest.mark.parametrize("http", ["h11", "httptools"])
def test_disconnect_works_with_either_uvicorn_http_implementation(http: str) -> None:
    sock = bind_socket("127.0.0.1", 0)
    app = create_app(Settings(port=sock.getsockname()[1], api_keys=("sk-test",)))
    server = uvicorn.Server(uvicorn.Config(app, http=http, loop="asyncio", log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        assert _raw_post(sock.getsockname()[1], "X-Mock-Scenario: disconnect\r\n", b'{"prompt": "x"}') == b""
        # The journal entry is written as the request's task unwinds, just after the socket closed.
        while not app.state.control.requests and time.monotonic() < deadline + 5:
            time.sleep(0.01)
        assert [e.status for e in app.state.control.requests] == [0]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
