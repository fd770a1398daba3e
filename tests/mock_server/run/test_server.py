"""End to end through a real socket: uvicorn on an ephemeral loopback port, a plain HTTP client."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import httpx
import pytest
import uvicorn
from PIL import Image

from mock_server import Settings, create_app
from mock_server.run.connections import LimitedHttpToolsProtocol
from mock_server.run.listener import uvicorn_config
from mock_server.run.server import LiveServer, banner


def call(method: str, url: str, body: dict[str, object] | None = None) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", "Bearer sk-e2e")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_create_poll_download_over_a_socket() -> None:
    with LiveServer(settings=Settings(job_seconds=0, api_keys=("sk-e2e",))) as server:
        status, _, raw = call(
            "POST",
            server.url + "/api/v1/flux/imagine",
            {"prompt": "a red fox", "width": 512, "height": 384, "output_format": "webp"},
        )
        assert status == 200
        mid = json.loads(raw)["messageId"]
        status, _, raw = call("GET", f"{server.url}/api/v1/midjourney/message/{mid}")
        message = json.loads(raw)
        assert status == 200
        assert message["status"] == "DONE"
        assert message["uri"].startswith(server.url)  # image URLs point at the mock itself
        status, headers, blob = call("GET", message["uri"])
        assert status == 200
        assert headers["content-type"] == "image/webp"
        assert Image.open(io.BytesIO(blob)).size == (512, 384)
        status, _, raw = call("POST", server.url + "/api/v1/flux/imagine", {"prompt": "x", "n": 5})
        assert status == 400
        assert json.loads(raw)["message"] == ["n must not be greater than 4"]


# --- who the client is: the socket's peer, never a header (unless --trust-proxy) ------------------------


async def _admin_health_via(config: uvicorn.Config, peer: str, forwarded_for: str) -> int:
    """GET /__mock/health through the app exactly as uvicorn would run it (its middleware included)."""
    if not config.loaded:
        config.load()
    transport = httpx.ASGITransport(app=config.loaded_app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        response = await client.get("/__mock/health", headers={"X-Forwarded-For": forwarded_for})
        return response.status_code


@pytest.mark.anyio
async def test_forwarded_allow_ips_from_the_environment_cannot_open_the_admin_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # common in container images
    settings = Settings()
    config = uvicorn_config(create_app(settings), settings, log_level="warning")
    assert (config.proxy_headers, config.forwarded_allow_ips) == (False, [])
    assert await _admin_health_via(config, "203.0.113.9", "127.0.0.1") == 403


@pytest.mark.anyio
async def test_trust_proxy_believes_only_the_proxy_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    settings = Settings(trust_proxy=("203.0.113.9",))
    config = uvicorn_config(create_app(settings), settings, log_level="warning")
    assert (config.proxy_headers, config.forwarded_allow_ips) == (True, ["203.0.113.9"])
    assert await _admin_health_via(config, "203.0.113.9", "127.0.0.1") == 200  # the operator vouched for it
    assert await _admin_health_via(config, "198.51.100.4", "127.0.0.1") == 403  # any other peer: its own address
    assert await _admin_health_via(config, "203.0.113.9", "198.51.100.4") == 403  # the proxy's remote client


def test_live_server_uses_the_same_pinned_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    server = LiveServer(settings=Settings(max_headers=7))
    try:
        assert (server.config.proxy_headers, server.config.forwarded_allow_ips) == (False, [])
        assert issubclass(server.config.http, LimitedHttpToolsProtocol)  # type: ignore[arg-type]
        assert server.config.http.limits.max_headers == 7  # type: ignore[union-attr]
    finally:
        server.stop()


# --- the banner beyond loopback (--host 0.0.0.0, as in the container image) ---------------------------------


def test_a_loopback_bind_has_no_notes() -> None:
    assert "note:" not in banner(Settings(host="127.0.0.1"))
    assert "note:" not in banner(Settings(host="::1", webhook_allow_hosts=("localhost",)))


def test_a_wildcard_bind_says_how_to_reach_the_admin_api_webhooks_and_images() -> None:
    text = banner(Settings(host="0.0.0.0", port=8080))
    assert "the admin API and the dashboard answer loopback clients only" in text
    assert "--admin-token TOKEN (env FLUX_MOCK_ADMIN_TOKEN)" in text
    assert "--webhook-allow-host host.docker.internal (env FLUX_MOCK_WEBHOOK_ALLOW_HOSTS)" in text
    assert "image URLs name http://0.0.0.0:8080" in text
    assert "--public-url" in text
    assert "(env FLUX_MOCK_PUBLIC_URL), e.g. http://127.0.0.1:8080" in text


def test_each_note_goes_once_its_setting_is_given() -> None:
    text = banner(
        Settings(
            host="0.0.0.0",
            public_url="http://127.0.0.1:8080",
            admin_token="t",
            admin_host=("mock.example",),
            webhook_allow_hosts=("host.docker.internal",),
        )
    )
    assert "note:" not in text
    assert "IMAGINEPRO_BASE_URL=http://127.0.0.1:8080" in text


def test_with_a_token_a_wildcard_bind_points_at_admin_host() -> None:
    text = banner(Settings(host="::", admin_token="t"))
    assert "loopback clients only" not in text
    assert "--admin-host NAME (env FLUX_MOCK_ADMIN_HOST)" in text


def test_a_specific_address_is_a_usable_url() -> None:
    text = banner(Settings(host="192.0.2.10"))
    assert "image URLs" not in text  # http://192.0.2.10:8080 is an address clients can use
    assert "listening on 192.0.2.10" in text
