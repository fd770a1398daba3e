"""Webhook test fixtures: the mock on a real loopback socket driven by a VirtualClock, and real receivers."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from webhook_support import API_KEY, AUTH, Live, Serve

from mock_server import Settings, VirtualClock, WebhookReceiver
from mock_server.run.server import LiveServer


@pytest.fixture
def serve() -> Iterator[Serve]:
    """Start the mock (LiveServer, VirtualClock) with settings overrides; stopped at teardown."""
    started: list[Live] = []

    def start(**overrides: Any) -> Live:
        base: dict[str, Any] = {"job_seconds": 3.0, "seed": 1, "api_keys": (API_KEY,)}
        base.update(overrides)
        clock = VirtualClock(start=1_750_000_000.0)
        server = LiveServer(settings=Settings(**base), clock=clock).start()
        live = Live(server, httpx.Client(base_url=server.url, headers=AUTH, timeout=10), clock)
        started.append(live)
        return live

    yield start
    for live in started:
        live.client.close()
        live.server.stop()


@pytest.fixture(scope="module")
def _module_receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(validate=True) as rx:
        yield rx


@pytest.fixture
def receiver(_module_receiver: WebhookReceiver) -> WebhookReceiver:
    """A recording receiver on 127.0.0.1 that validates payloads against the contract (emptied for each test)."""
    _module_receiver.clear()
    return _module_receiver


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A URL whose host accepts TCP connections (kernel backlog) but never answers: a dead receiver."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/dead"
    finally:
        sock.close()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nobody listens on: connection refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/refused"
