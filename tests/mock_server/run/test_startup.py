"""What ``flux-mock serve`` imports before its first answer: only what that answer needs (issue 19, fast start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server.contract.spec import load_document

# `flux-mock serve` as typed, until it has answered one request: uvicorn's main loop is replaced by one request
# over a raw socket (no HTTP client of the kind looked for), then the loaded modules are reported.
PROBE = """
import asyncio, json, sys
import uvicorn

async def main_loop(self):
    host, port = self.servers[0].sockets[0].getsockname()[:2]
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /__mock/health HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close\\r\\n\\r\\n")
    await writer.drain()
    status = (await reader.read()).split(b"\\r\\n")[0].decode()
    writer.close()
    print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
    self.should_exit = True

uvicorn.Server.main_loop = main_loop
from mock_server.run.cli import main
main(["serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "warning"], standalone_mode=False)
"""

# Not needed to answer: the kit's test tools, the webhook sender's HTTP client (and what it pulls in), the HAR
# writer and reader (and --replay's middleware), the full validator (for a request that fails the fast one),
# Pillow (for a download), the YAML parser (openapi.yaml comes from the cache; scenario files only with
# --scenarios), the proxy, the dashboard's pages and feed (on its first request) and the contract kit.
NOT_AT_START = (
    "schemathesis",
    "hypothesis",
    "httpx",
    "rich",
    "harfile",
    "jsonschema",
    "PIL",
    "yaml",
    "av",
    "mock_server.web.proxy",
    "mock_server.web.dashboard.routes",
    "mock_server.web.middleware.replay",
    "mock_server.domain.records.har",
    "contracts",
)


def test_serve_answers_without_importing_what_the_answer_does_not_need(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    load_document()  # the cache then holds openapi.yaml's parse, as after any earlier start
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, env=dict(os.environ), check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["status"] == "HTTP/1.1 200 OK"
    imported = set(report["modules"])
    assert "mock_server.web.app" in imported  # the probe did serve
    assert sorted(name for name in NOT_AT_START if name in imported) == []
