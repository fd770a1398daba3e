"""Fixtures for the multi-process tests: redis-server instances, and flux-mock replicas that share one.

Separate replicas on separate ports make "this request lands on that worker" deterministic; `--workers N`
replicas (one port) are for the tests about uvicorn's own process fan-out.

Starting a replica costs seconds (imports and the spec), so tests that need no special flags share one pair of
replicas for the session (`pair`, reset through the admin API before each test, on a Redis of its own); tests that
need their own flags start their own (`fleet`, on the session Redis, FLUSHALLed before each test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_harness import STUCK_IN_SHUTDOWN, Fleet, Replica
from redis_support import flushall, running_redis

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
