"""`--workers N`: the settings a worker process is given, and a fleet on one port (real processes)."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from mock_server import Settings
from mock_server.workers import settings_from_record, settings_record

SERVE = [sys.executable, "-m", "mock_server", "serve"]


def test_a_worker_gets_exactly_the_settings_of_its_parent() -> None:
    settings = Settings(
        seed=7, api_keys=("sk-a", "sk-b"), store="redis://127.0.0.1:6379/3", workers=2, webhook_allow_hosts=("x.test",)
    )
    assert settings_from_record(settings_record(settings)) == settings


def test_two_workers_without_a_shared_store_are_refused_with_the_fix() -> None:
    done = subprocess.run(
        [*SERVE, "--workers", "2", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "--store redis://127.0.0.1:6379/0" in done.stderr
    assert "redis-server" in done.stderr


def test_two_workers_serve_one_port_and_share_jobs(redis_store_url: str) -> None:
    with subprocess.Popen(
        [*SERVE, "--workers", "2", "--port", "0", "--store", redis_store_url, "--log-level", "warning"],
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stderr is not None
            url = _wait_for_url(proc)
            pids = _worker_pids(url)
            assert len(pids) == 2
            with httpx.Client(base_url=url, headers={"Authorization": "Bearer sk-x"}) as api:
                message_id = api.post("/api/v1/flux/imagine", json={"prompt": "fox"}).json()["messageId"]
            for _ in range(20):  # fresh connections land on both workers; each finds the job
                fetched = httpx.get(
                    f"{url}/api/v1/message/fetch/{message_id}", headers={"Authorization": "Bearer sk-x"}
                )
                assert fetched.status_code == 200
        finally:
            proc.terminate()
            proc.wait(30)


def _wait_for_url(proc: subprocess.Popen[str], timeout: float = 60.0) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    for line in proc.stderr:
        if "serving the ImaginePro API" in line:
            url = line.rsplit(" at ", 1)[1].strip()
            while time.monotonic() < deadline:
                try:
                    httpx.get(url + "/__mock/health", timeout=1)
                    return url
                except httpx.HTTPError:
                    time.sleep(0.1)
        if time.monotonic() > deadline:
            break
    pytest.fail("flux-mock --workers 2 did not start")


def _worker_pids(url: str, tries: int = 200) -> set[int]:
    # Wait until both workers listen, then until fresh connections have reached both (SO_REUSEPORT spreads them).
    seen: set[int] = set()
    for _ in range(tries):
        try:
            seen.add(
                httpx.get(url + "/__mock/health", headers={"Connection": "close"}, timeout=2).json()["worker"]["pid"]
            )
        except httpx.HTTPError:
            time.sleep(0.1)
        if len(seen) == 2:
            break
    return seen
