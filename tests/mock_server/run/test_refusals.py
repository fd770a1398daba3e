"""Early refusals every client can read: 401 and 413 answered before the body, then a lingering close.

A served `flux-mock serve` (uvloop, as users run it) on a free loopback port; each client sends bodies of 1.1 MB
and 10 MB (over the default --max-body-bytes of 1 MiB), with and without a key, five times, and must read the
status: a reset or a broken pipe fails the test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import requests
from fleet_harness import Replica

PATH = "/api/v1/flux/imagine"
KEY = "sk-test"
SIZES = (1_100_000, 10_000_000)
ROUNDS = 5
CASES = [(size, key) for size in SIZES for key in (KEY, None)]

Client = Callable[[str, bytes, str | None], int]


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    replica = Replica(["--api-key", KEY], log_dir=tmp_path_factory.mktemp("refusals"), name="refusals")
    replica.start().wait_ready()
    yield replica
    replica.stop()


def body_of(size: int) -> bytes:
    prefix = b'{"prompt": "'
    return prefix + b"a" * (size - len(prefix) - 2) + b'"}'


def headers(key: str | None) -> dict[str, str]:
    return {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}


def with_urllib(url: str, body: bytes, key: str | None) -> int:
    request = urllib.request.Request(url, data=body, headers=headers(key), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def with_requests(url: str, body: bytes, key: str | None) -> int:
    return requests.post(url, data=body, headers=headers(key), timeout=20).status_code


def with_httpx(url: str, body: bytes, key: str | None) -> int:
    return httpx.post(url, content=body, headers=headers(key), timeout=20).status_code


def with_curl(url: str, body: bytes, key: str | None, tmp: Path) -> int:
    curl = shutil.which("curl")
    assert curl, "curl is not installed (apt-get install -y curl)"
    file = tmp / f"body-{len(body)}"
    if not file.exists():
        file.write_bytes(body)
    args = [curl, "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "20", "--data-binary", f"@{file}"]
    for name, value in headers(key).items():
        args += ["-H", f"{name}: {value}"]
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, f"curl failed ({done.returncode}): {done.stderr}"
    return int(done.stdout)


NODE_SCRIPT = """
const [url, size, key, rounds] = [process.argv[1], Number(process.argv[2]), process.argv[3], Number(process.argv[4])];
const body = '{"prompt": "' + 'a'.repeat(size - 14) + '"}';
const headers = {'Content-Type': 'application/json'};
if (key) headers['Authorization'] = 'Bearer ' + key;
(async () => {
  const statuses = [];
  for (let i = 0; i < rounds; i++) {
    try { statuses.push((await fetch(url, {method: 'POST', body, headers})).status); }
    catch (e) { statuses.push(String(e.cause || e)); }
  }
  console.log(JSON.stringify(statuses));
})();
"""


@pytest.mark.slow
def test_every_client_reads_the_early_refusal(mock: Replica, tmp_path: Path) -> None:
    url = mock.url + PATH
    clients: dict[str, Client] = {
        "urllib": with_urllib,
        "requests": with_requests,
        "httpx": with_httpx,
        "curl": lambda u, b, k: with_curl(u, b, k, tmp_path),
    }
    seen: dict[str, list[object]] = {}
    for size, key in CASES:
        body = body_of(size)
        for name, client in clients.items():
            seen[f"{name} {size} key={key}"] = [_status(client, url, body, key) for _ in range(ROUNDS)]
        node = shutil.which("node")
        assert node, "node is not installed (apt-get install -y nodejs)"
        run = [node, "-e", NODE_SCRIPT, url, str(size), key or "", str(ROUNDS)]
        done = subprocess.run(run, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"node failed: {done.stderr}"
        seen[f"node-fetch {size} key={key}"] = json.loads(done.stdout)
    expected = {label: [413 if "key=sk-test" in label else 401] * ROUNDS for label in seen}
    assert seen == expected


def _status(client: Client, url: str, body: bytes, key: str | None) -> object:
    try:
        return client(url, body, key)
    except (OSError, requests.RequestException, httpx.HTTPError) as failed:
        return repr(failed)  # shown in the comparison: which client, which size, what it got instead
