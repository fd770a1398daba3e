"""A throw-away redis-server for tests (the --store redis:// ones start it themselves; CI installs the binary)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

REDIS_SERVER = "redis-server"
REDIS_START_TIMEOUT_S = 10.0


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_binary() -> str:
    found = shutil.which(REDIS_SERVER) or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if found is None:
        pytest.fail("redis-server not found: apt-get install -y redis-server", pytrace=False)
    return found


class RedisServer:
    """A redis-server on one loopback port that a test can stop (an outage) and start again on the same port."""

    def __init__(self, log_dir: Path) -> None:
        self.binary = redis_binary()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        """Launch it and wait until it answers PING."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1.0)
        try:
            deadline = time.monotonic() + REDIS_START_TIMEOUT_S
            while True:
                if self.proc.poll() is not None:
                    pytest.fail(f"redis-server exited with {self.proc.returncode}:\n{self.log_path.read_text()}")
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"redis-server did not answer PING within {REDIS_START_TIMEOUT_S} s")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self) -> None:
        """Terminate it (SIGTERM, then SIGKILL after 5 s) and reap it."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5.0)


@contextmanager
def running_redis(log_dir: Path) -> Iterator[str]:
    """A throw-away redis-server on a free loopback port, no persistence; its URL (db 0) once it answers PING."""
    server = RedisServer(log_dir).start()
    try:
        yield server.url
    finally:
        server.stop()


def flushall(url: str) -> None:
    """Empty every database of the server at `url`."""
    client = redis.Redis.from_url(url, socket_timeout=2.0)
    try:
        client.flushall()
    finally:
        client.close()
