"""The servers under test: each one uvicorn process on 127.0.0.1, 1 worker, uvloop + httptools, quiet."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    """An ephemeral loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def request(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> tuple[int, Any]:
    """One HTTP request on loopback; returns (status, parsed JSON or text)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read().decode("utf-8", "replace")
    finally:
        conn.close()
    try:
        return resp.status, json.loads(data)
    except ValueError:
        return resp.status, data


class UvicornProcess:
    """`python -m uvicorn <target>` in its own process, optionally pinned to one CPU."""

    def __init__(
        self,
        name: str,
        target: str,
        *,
        factory: bool = False,
        cpu: int | None = None,
        port_env: str | None = None,
        http: str = "httptools",
    ) -> None:
        self.http = http  # uvicorn's --http: a name, or module:Class (bench/limits.py loads the limited protocol)
        self.name = name
        self.target = target
        self.factory = factory
        self.cpu = cpu
        self.port_env = port_env
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)

    def command(self) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            self.target,
            *(["--factory"] if self.factory else []),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            self.http,
            "--no-access-log",
            "--log-level",
            "warning",
            "--app-dir",
            str(ROOT),
        ]
        return ["taskset", "-c", str(self.cpu), *cmd] if self.cpu is not None else cmd

    def start(self, probe: tuple[str, str, str | None, dict[str, str]], timeout: float = 30.0) -> Any:
        """Start and wait until `probe` (method, path, body, headers) answers 2xx; returns the probe's answer."""
        for _attempt in range(3):  # a picked port can be taken before uvicorn binds it; try another
            self.port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("FLUX_MOCK_")}
            if self.port_env:
                env[self.port_env] = str(self.port)
            self.proc = subprocess.Popen(
                self.command(), cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT
            )
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    status, answer = request(self.port, *probe)
                except OSError:
                    time.sleep(0.05)
                    continue
                if 200 <= status < 300:
                    return answer
                raise RuntimeError(f"{self.name}: probe {probe[0]} {probe[1]} answered {status}: {answer}")
            if self.proc.poll() is None:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.output()}")
            if "address already in use" not in self.output().lower():
                break
        raise RuntimeError(f"{self.name} exited with {self.proc.returncode if self.proc else '?'}:\n{self.output()}")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rss_mb(self) -> float | None:
        """Resident memory of the server process now (VmRSS)."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        with contextlib.suppress(OSError), open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return None

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down gracefully), SIGKILL if it lingers; only this process."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
