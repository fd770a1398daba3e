"""Shared fixtures: a virtual clock, an in-process app, and an httpx client bound to it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis
from hypothesis import HealthCheck, settings
from starlette.applications import Starlette

from mock_server import Settings, VirtualClock, create_app

# Hermetic, replayable property tests: derandomized and without the example database in CI.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

API_KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> VirtualClock:
    """Virtual time: tests move it with `clock.advance(seconds)`, never sleep."""
    return VirtualClock(start=1_750_000_000.0)


@pytest.fixture
def mock_settings() -> Settings:
    """Default test settings: 3 s jobs, seed 1, the one test key."""
    return Settings(job_seconds=3.0, seed=1, api_keys=(API_KEY,))


@pytest.fixture
def app(mock_settings: Settings, clock: VirtualClock) -> Starlette:
    return create_app(mock_settings, clock=clock)


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the app in-process, authenticated with the test key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080", headers=AUTH) as client:
        yield client


# --- Redis (for --store redis:// tests) ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port for the whole session; FAILS (never skips) when it is missing."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: apt-get install -y redis-server (.ci/run installs it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start on 127.0.0.1:{port} (exit status {proc.poll()})")
            time.sleep(0.05)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def redis_store_url(redis_url: str) -> str:
    """The session's Redis, emptied for this test."""
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()
    return redis_url
