"""Fixtures for the multi-process tests: one redis-server per session, a fleet of flux-mock replicas per test.

Separate replicas on separate ports make "this request lands on that worker" deterministic; `--workers N`
replicas (one port) are for the tests about uvicorn's own process fan-out.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fleet_harness import Fleet, free_port

REDIS_SERVER = "redis-server"
REDIS_START_TIMEOUT_S = 10.0


def _redis_binary() -> str:
    found = shutil.which(REDIS_SERVER) or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if found is None:
        pytest.fail("redis-server not found: apt-get install -y redis-server", pytrace=False)
    return found


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throw-away redis-server on a free loopback port (no persistence); yields its URL, db 0."""
    binary = _redis_binary()
    port = free_port()
    log_path = tmp_path_factory.mktemp("redis") / "redis.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1.0)
            try:
                deadline = time.monotonic() + REDIS_START_TIMEOUT_S
                while True:
                    if proc.poll() is not None:
                        pytest.fail(f"redis-server exited with {proc.returncode}:\n{log_path.read_text()}")
                    try:
                        if client.ping():
                            break
                    except redis.ConnectionError:
                        pass
                    if time.monotonic() > deadline:
                        pytest.fail(f"redis-server did not answer PING within {REDIS_START_TIMEOUT_S} s")
                    time.sleep(0.02)
            finally:
                client.close()
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5.0)


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied (FLUSHALL) for this test."""
    client = redis.Redis.from_url(redis_server, socket_timeout=2.0)
    try:
        client.flushall()
    finally:
        client.close()
    return redis_server


@pytest.fixture
def fleet(redis_url: str, tmp_path: Path) -> Iterator[Fleet]:
    """Starts replicas sharing the test's Redis (`fleet.start(2, "--job-seconds", "0")`); stops them all after."""
    replicas = Fleet(store=redis_url, log_dir=tmp_path)
    try:
        yield replicas
    finally:
        replicas.stop_all()
