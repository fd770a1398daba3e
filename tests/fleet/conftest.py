"""Fixtures for the multi-process tests: redis-server instances, and flux-mock replicas that share one.

Separate replicas on separate ports make "this request lands on that worker" deterministic; `--workers N`
replicas (one port) are for the tests about uvicorn's own process fan-out.

Starting a replica costs seconds (imports and the spec), so tests that need no special flags share one pair of
replicas for the session (`pair`, reset through the admin API before each test, on a Redis of its own); tests that
need their own flags start their own (`fleet`, on the session Redis, FLUSHALLed before each test).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from fleet_harness import STUCK_IN_SHUTDOWN, Fleet, Replica, free_port

REDIS_SERVER = "redis-server"
REDIS_START_TIMEOUT_S = 10.0
# The shared pair's flags: 10 s jobs (4 slots per key), jobs forgotten 60 s after creation or past the 25th, and a
# second API key.
MAX_JOBS = 25
PAIR_ARGS = ("--job-seconds", "10", "--job-ttl", "60", "--max-jobs", str(MAX_JOBS), "--api-key", "sk-other")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name every replica that did not exit within STOP_TIMEOUT_S of SIGTERM (not a test failure; a lead)."""
    if STUCK_IN_SHUTDOWN:
        terminalreporter.section("flux-mock replicas stuck in shutdown (SIGTERM ignored; SIGABRT dumped stacks)")
        for line in STUCK_IN_SHUTDOWN:
            terminalreporter.line(line)


def _redis_binary() -> str:
    found = shutil.which(REDIS_SERVER) or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if found is None:
        pytest.fail("redis-server not found: apt-get install -y redis-server", pytrace=False)
    return found


@contextmanager
def running_redis(log_dir: Path) -> Iterator[str]:
    """A throw-away redis-server on a free loopback port, no persistence; its URL (db 0) once it answers PING."""
    binary = _redis_binary()
    port = free_port()
    log_path = log_dir / f"redis-{port}.log"
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


def flushall(url: str) -> None:
    client = redis.Redis.from_url(url, socket_timeout=2.0)
    try:
        client.flushall()
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's redis-server (no persistence); yields its URL, db 0."""
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied (FLUSHALL) for this test."""
    flushall(redis_server)
    return redis_server


@pytest.fixture
def fleet(redis_url: str, tmp_path: Path) -> Iterator[Fleet]:
    """Starts replicas sharing the test's Redis (`fleet.start(2, "--job-seconds", "0")`); stops them all after."""
    replicas = Fleet(store=redis_url, log_dir=tmp_path)
    try:
        yield replicas
    finally:
        replicas.stop_all()


@pytest.fixture(scope="session")
def shared_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Replica, Replica]]:
    """Two replicas (PAIR_ARGS) on a redis-server of their own, so FLUSHALLs of `redis_url` never reach them."""
    log_dir = tmp_path_factory.mktemp("pair")
    with running_redis(log_dir) as url:
        flushall(url)
        replicas = Fleet(store=url, log_dir=log_dir)
        try:
            a, b = replicas.start(2, *PAIR_ARGS)
            yield a, b
        finally:
            replicas.stop_all()


@pytest.fixture
def pair(shared_pair: tuple[Replica, Replica]) -> tuple[Replica, Replica]:
    """The shared replicas A and B, reset through A (jobs, ids, journals, rules, clock, credits, limits)."""
    a, b = shared_pair
    for replica in shared_pair:
        assert replica.proc is not None
        assert replica.proc.poll() is None, f"{replica} died:\n{replica.log_tail()}"
    a.admin_ok("POST", "/reset")
    clock = b.clock()
    assert (clock["offset"], clock["frozen"]) == (0.0, False), clock
    for replica in shared_pair:
        health = replica.admin_ok("GET", "/health")
        assert (health["jobs"], health["requests"]) == (0, 0), (replica, health)
    return a, b
