"""Shared fixtures: a virtual clock, an in-process app, and an httpx client bound to it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from hypothesis import HealthCheck, settings
from redis_support import flushall, running_redis
from starlette.applications import Starlette

from mock_server import Settings, VirtualClock, create_app

if TYPE_CHECKING:
    from recordings import Recordings

# Hermetic, replayable property tests: derandomized and without the example database in CI.
settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, max_examples=50)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

API_KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}

# Folders whose every test belongs to the slow tier (many processes on Redis; a container image built and run), and
# slow modules whose collection alone costs seconds (schemathesis builds a test per operation when imported).
SLOW_FOLDERS = ("fleet", "container")
SLOW_MODULES = ("mock_server/web/test_contract.py",)
TESTS = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The fast tier (plain ``pytest``: ``-m "not slow"``) does not even import the slow tier's modules."""
    if config.getoption("markexpr", "") == "not slow" and _in_slow_tier(collection_path):
        return True
    return None


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: two workers per core (at most 8). Many tests wait on real sockets, clocks and child processes
    (client runs, served mocks), so a second worker per core runs while the first waits."""
    return min(8, 2 * (os.cpu_count() or 1))


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the slow folders' tests `slow`: plain ``pytest`` leaves them to .ci/run's full tier."""
    for item in items:
        if _in_slow_tier(item.path):
            item.add_marker(pytest.mark.slow)


def _in_slow_tier(path: Path) -> bool:
    if not path.is_relative_to(TESTS):
        return False
    relative = path.relative_to(TESTS).as_posix()
    return relative.split("/")[0] in SLOW_FOLDERS or relative in SLOW_MODULES


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
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server on a free loopback port for the session (its URL, db 0); FAILS, never skips, without it."""
    with running_redis(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied (FLUSHALL) for this test."""
    flushall(redis_server)
    return redis_server


# --- recordings (flux-mock proxy --record, for drift and --pace-from) -------------------------------------------


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Recordings:
    """HAR recordings through the proxy in front of the mock or a mutant, each made once a session."""
    from recordings import Recordings  # here: it loads the contract kit, which most tests never need

    return Recordings(tmp_path_factory.mktemp("recordings"))
