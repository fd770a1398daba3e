"""Process control for the fleet tests: flux-mock replicas (one process each, or one port with --workers N).

Black box only: a replica is a `python -m mock_server serve ...` subprocess, reached over HTTP. Every wait here
is bounded; a replica that dies or never answers fails the test with the tail of its log.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, TypeVar

import httpx
import pytest
from redis_support import free_port

API_KEY = "sk-test"
OTHER_KEY = "sk-other"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
HTTP_TIMEOUT_S = 10.0
POLL_PATHS = ("/api/v1/message/fetch/{id}", "/api/v1/midjourney/message/{id}")

T = TypeVar("T")

# Replicas that outlived SIGTERM by STOP_TIMEOUT_S (a shutdown hang); conftest lists them at the end of the run.
STUCK_IN_SHUTDOWN: list[str] = []


def wait_until(condition: Callable[[], T], *, timeout: float, what: str, interval: float = 0.02) -> T:
    """Call `condition` until it returns something truthy (returned); pytest.fail after `timeout` real seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def unknown_id() -> str:
    """A well-formed messageId no server made."""
    return str(uuid.uuid4())


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any FLUX_MOCK_* setting (the flags alone configure a replica)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLUX_MOCK_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"  # a replica stuck in shutdown dumps its threads' stacks on SIGABRT
    env.update(extra or {})
    return env


def serve_command(*args: str) -> list[str]:
    """`flux-mock serve ARGS` run by this interpreter (PYTHONPATH picks the tree under test)."""
    return [sys.executable, "-m", "mock_server", "serve", *args]


class Replica:
    """One `flux-mock serve` process group on its own port (with --workers N, N workers behind that port)."""

    def __init__(self, args: Sequence[str], *, log_dir: Path, name: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.env = env or {}  # extra environment (e.g. a test-only crash hook)
        self.name = name
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [*args, "--host", "127.0.0.1", "--port", str(self.port)]
        self.log_path = log_dir / f"{name}-{self.port}.log"
        self._log: IO[bytes] | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._reaped = False
        self._terminated = False
        self.stuck_in_shutdown = False
        self.client = httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT_S)

    def __repr__(self) -> str:
        return f"Replica({self.name} {self.url})"

    # -- process control ------------------------------------------------------------------------------------------

    def start(self) -> Replica:
        """Launch the process (returns at once; `wait_ready` waits for it)."""
        self._log = self.log_path.open("wb")
        # Own session: the whole group (uvicorn's supervisor and its workers) can be signalled at once.
        self.proc = subprocess.Popen(
            serve_command(*self.args),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=clean_env(self.env),
            start_new_session=True,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self} was never started"
        return self.proc.pid

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> dict[str, Any]:
        """Block until GET /__mock/health answers 200; its body. Fails with the log when the process dies."""
        assert self.proc is not None, f"{self} was never started"
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                pytest.fail(f"{self} exited with {code} before answering /__mock/health:\n{self.log_tail()}")
            try:
                response = httpx.get(f"{self.url}/__mock/health", timeout=1.0)
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{self} did not answer /__mock/health within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.05)

    def signal_group(self, sig: signal.Signals) -> None:
        """Send `sig` to this replica's process group (only processes this replica started, never after reaping)."""
        if self.proc is None or self._reaped:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def _reap(self) -> None:
        """SIGKILL whatever is left of the group (workers outlive their supervisor only by mistake), then reap."""
        assert self.proc is not None
        self.signal_group(signal.SIGKILL)
        self.proc.wait(timeout=STOP_TIMEOUT_S)
        self._reaped = True

    def kill(self) -> None:
        """SIGKILL the whole group at once (a crash: nothing gets to clean up) and reap it."""
        if self.proc is not None:
            self._reap()

    def terminate(self) -> None:
        """SIGTERM the group once (a clean shutdown), without waiting."""
        if self.proc is not None and not self._terminated and self.proc.poll() is None:
            self._terminated = True
            self.signal_group(signal.SIGTERM)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; always reaps the process and closes the log and client."""
        try:
            if self.proc is not None and not self._reaped:
                self.terminate()
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.stuck_in_shutdown = True
                    STUCK_IN_SHUTDOWN.append(f"{self} (flags {' '.join(self.args)}), stacks in {self.log_path}")
                    self.signal_group(signal.SIGABRT)  # stacks into the log, for whoever reads it
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.proc.wait(timeout=STOP_TIMEOUT_S)
                self._reap()
        finally:
            self.client.close()
            if self._log is not None:
                self._log.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- HTTP ---------------------------------------------------------------------------------------------------------

    def api(
        self, method: str, path: str, *, json: Any = None, key: str | None = API_KEY, fresh: bool = False
    ) -> httpx.Response:
        """A public API request with `Authorization: Bearer key` (none when key is None).

        fresh: over a new connection (a --workers N port hands each connection to any worker).
        """
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        if fresh:
            with httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT_S) as client:
                return client.request(method, path, json=json, headers=headers)
        return self.client.request(method, path, json=json, headers=headers)

    def admin(self, method: str, path: str, *, json: Any = None) -> httpx.Response:
        """An admin request under /__mock (loopback, no token)."""
        return self.client.request(method, f"/__mock{path}", json=json)

    def admin_ok(self, method: str, path: str, *, json: Any = None) -> Any:
        """An admin request that must answer 2xx; its JSON body."""
        response = self.admin(method, path, json=json)
        assert response.is_success, f"{self}: {method} /__mock{path} -> {response.status_code} {response.text}"
        return response.json()

    def create(self, prompt: str = "a red fox", *, key: str = API_KEY, **fields: Any) -> str:
        """POST /api/v1/flux/imagine that must succeed; the messageId."""
        response = self.api("POST", "/api/v1/flux/imagine", json={"prompt": prompt, **fields}, key=key)
        assert response.status_code == 200, f"{self}: create -> {response.status_code} {response.text}"
        body = response.json()
        assert body["success"] is True, body
        message_id: str = body["messageId"]
        return message_id

    def poll(self, message_id: str, path: str = POLL_PATHS[0], *, key: str = API_KEY) -> httpx.Response:
        return self.api("GET", path.format(id=message_id), key=key)

    def message(self, message_id: str, path: str = POLL_PATHS[0]) -> dict[str, Any]:
        """The Message on `path`, which must answer 200."""
        response = self.poll(message_id, path)
        assert response.status_code == 200, f"{self}: GET {path} {message_id} -> {response.status_code} {response.text}"
        body: dict[str, Any] = response.json()
        return body

    def advance(self, seconds: float) -> dict[str, Any]:
        body: dict[str, Any] = self.admin_ok("POST", "/clock/advance", json={"seconds": seconds})
        return body

    def clock(self) -> dict[str, Any]:
        body: dict[str, Any] = self.admin_ok("GET", "/clock")
        return body


class Fleet:
    """Starts replicas for one test and stops every one of them afterwards (also when the test fails)."""

    def __init__(self, *, store: str, log_dir: Path) -> None:
        self.store = store
        self.log_dir = log_dir
        self.replicas: list[Replica] = []

    def replica_args(self, args: Iterable[str], *, workers: int = 1, store: str | None = None) -> list[str]:
        base = ["--store", store or self.store, "--seed", "1", "--api-key", API_KEY, "--log-level", "warning"]
        if workers != 1:
            base += ["--workers", str(workers)]
        return [*base, *args]

    def launch(
        self, *args: str, workers: int = 1, store: str | None = None, env: dict[str, str] | None = None
    ) -> Replica:
        """Start one replica without waiting for it (`env`: extra environment variables)."""
        name = f"r{len(self.replicas)}" + (f"x{workers}" if workers != 1 else "")
        args_ = self.replica_args(args, workers=workers, store=store)
        replica = Replica(args_, log_dir=self.log_dir, name=name, env=env)
        self.replicas.append(replica)
        return replica.start()

    def start(self, count: int, *args: str, workers: int = 1) -> list[Replica]:
        """Start `count` replicas with the same flags (in parallel) and wait until each answers."""
        started = [self.launch(*args, workers=workers) for _ in range(count)]
        for replica in started:
            replica.wait_ready()
        return started

    def stop_all(self) -> None:
        # SIGTERM every group first, so their shutdowns overlap, then reap each one.
        for replica in self.replicas:
            replica.terminate()
        for replica in self.replicas:
            replica.stop()


def concurrently(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run the calls on their own threads, released together by a barrier; results in the calls' order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout=HTTP_TIMEOUT_S)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result(timeout=2 * HTTP_TIMEOUT_S) for future in futures]


def create_fresh(replica: Replica, prompt: str, *, key: str = API_KEY) -> httpx.Response:
    """POST imagine over a connection of its own (safe to call from many threads at once)."""
    return replica.api("POST", "/api/v1/flux/imagine", json={"prompt": prompt}, key=key, fresh=True)
