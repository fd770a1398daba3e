"""`--workers N`: N uvicorn worker processes behind one port, sharing state through Redis."""

from __future__ import annotations

import subprocess
from typing import Any

import httpx
from fleet_harness import API_KEY, HTTP_TIMEOUT_S, POLL_PATHS, Fleet, clean_env, free_port, serve_command

MAX_TRIES = 200


def on_a_fresh_connection(url: str, *requests: tuple[str, str, Any]) -> tuple[int, list[httpx.Response]]:
    """The worker pid that owns one new connection, and the answers to `requests` sent over that same connection."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=url, timeout=HTTP_TIMEOUT_S, headers=headers) as client:
        health = client.get("/__mock/health")
        assert health.status_code == 200, health.text
        pid: int = health.json()["worker"]["pid"]
        return pid, [client.request(method, path, json=body) for method, path, body in requests]


def test_two_workers_on_one_port_share_every_job(fleet: Fleet) -> None:
    (server,) = fleet.start(1, "--job-seconds", "3", workers=2)
    health = server.admin_ok("GET", "/health")
    assert health["store"] == "redis", health

    pids: set[int] = set()
    for _ in range(MAX_TRIES):
        pid, _answers = on_a_fresh_connection(server.url)
        pids.add(pid)
        if len(pids) == 2:
            break
    assert len(pids) == 2, f"{MAX_TRIES} fresh connections all reached worker(s) {pids}"

    creator, [created] = on_a_fresh_connection(server.url, ("POST", "/api/v1/flux/imagine", {"prompt": "one port"}))
    assert created.status_code == 200, created.text
    message_id = created.json()["messageId"]

    served: dict[int, int] = {}  # worker pid -> polls it answered
    for _ in range(MAX_TRIES):
        polls = [("GET", path.format(id=message_id), None) for path in POLL_PATHS]
        pid, answers = on_a_fresh_connection(server.url, *polls)
        for answer in answers:
            assert answer.status_code == 200, (pid, creator, answer.status_code, answer.text)
            assert answer.json()["messageId"] == message_id
        served[pid] = served.get(pid, 0) + 1
        if set(served) == pids and len(served) == 2 and sum(served.values()) >= 10:
            break
    assert set(served) == pids, f"polls reached only {served}, the workers are {pids} (the job was made on {creator})"


def test_workers_without_a_shared_store_are_refused() -> None:
    args = ("--store", "memory", "--workers", "2", "--host", "127.0.0.1", "--port", str(free_port()))
    result = subprocess.run(serve_command(*args), capture_output=True, text=True, env=clean_env(), timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output  # a bad setting is a usage error, like a bad flag (click's status 2)
    assert "--store redis://" in output, output
    assert "redis-server" in output, output
