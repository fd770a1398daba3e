"""The fleet's processes: the mock through `flux-mock serve`, a multi-worker baseline, a private redis-server.

Shared by bench/fleet.py (throughput) and bench/soak.py (memory over time). Everything listens on 127.0.0.1
only, on free ports picked with `servers.free_port`. A server with `--workers N` is a process tree (uvicorn's
supervisor and its N workers), so memory and CPU are summed over the tree, and stopping it also stops any
worker the supervisor left behind (by pid, only processes this module started).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from bench.servers import HOST, ROOT, UvicornProcess, free_port

_TICKS = os.sysconf("SC_CLK_TCK")
# How `flux-mock serve` is asked for the Redis store and for workers; {url} and {workers} are filled in.
# A template, so the benchmark follows the flags if they are renamed (bench/fleet.py --redis-args).
REDIS_ARGS = "--store {url} --workers {workers}"


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name (which may hold spaces): fields 3.. of proc(5)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            raw = f.read()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2 :].split()


def tree_pids(root: int) -> list[int]:
    """`root` and all its descendants alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def rss_mb(pid: int) -> float:
    """VmRSS of one process in MB (0 when it is gone)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one live process (0 when it is gone)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICKS if fields else 0.0


class TreeMixin(UvicornProcess):
    """A `UvicornProcess` measured and stopped as a process tree (supervisor + workers)."""

    def pids(self) -> list[int]:
        return tree_pids(self.proc.pid) if self.proc is not None and self.proc.poll() is None else []

    def tree_rss_mb(self) -> float:
        return sum(rss_mb(pid) for pid in self.pids())

    def tree_cpu_s(self) -> float:
        return sum(cpu_s(pid) for pid in self.pids())

    def stop(self) -> None:
        root = self.proc.pid if self.proc is not None else None
        leftovers = [(pid, _start_time(pid)) for pid in self.pids() if pid != root]
        super().stop()
        deadline = time.monotonic() + 5
        for sig in (signal.SIGTERM, signal.SIGKILL):  # workers the supervisor did not take down (or was killed)
            alive = [(pid, start) for pid, start in leftovers if _alive(pid, start)]
            for pid, _start in alive:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            while alive and time.monotonic() < deadline:
                time.sleep(0.05)
                alive = [(pid, start) for pid, start in alive if _alive(pid, start)]
            if not alive:
                return


def _start_time(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def _alive(pid: int, start: str | None) -> bool:
    """`pid` is still the process seen earlier (same start time) and not a zombie."""
    fields = _stat_fields(pid)
    return fields is not None and fields[19] == start and fields[0] != "Z"


class BaselineServer(TreeMixin):
    """bench/baseline_app.py under uvicorn with `workers` worker processes (1 = no supervisor)."""

    def __init__(self, name: str, workers: int) -> None:
        super().__init__(name, "bench.baseline_app:app")
        self.workers = workers

    def command(self) -> list[str]:
        cmd = super().command()
        cmd[cmd.index("--workers") + 1] = str(self.workers)
        return cmd


class MockServer(TreeMixin):
    """`flux-mock serve` (`python -m mock_server`, from this checkout) with its defaults plus `extra` flags."""

    def __init__(self, name: str, extra: list[str]) -> None:
        super().__init__(name, "mock_server")
        self.extra = extra

    def command(self) -> list[str]:
        base = [sys.executable, "-m", "mock_server", "serve", "--host", HOST, "--port", str(self.port)]
        return [*base, "--log-level", "warning", *self.extra]


def serve_flags() -> set[str]:
    """The long flags of this checkout's `flux-mock serve` (from its --help), to see what it offers."""
    cmd = [sys.executable, "-m", "mock_server", "serve", "--help"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    # Only where an option's line starts: help texts mention other flags (and not always by their real name).
    return set(re.findall(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", proc.stdout, re.MULTILINE))


SNAPSHOT_CALLS = 3  # INFO commands one snapshot sends on its own connection (counted in data_segs_in)


@dataclass(slots=True)
class RedisSnapshot:
    """What Redis reported at one instant: its CPU seconds, command calls and memory."""

    cpu_s: float
    calls: dict[str, int]
    used_memory: int
    data_segs_in: int  # TCP segments carrying data that reached Redis (one per client write: a round trip)


class RedisServer:
    """A private `redis-server` on a free loopback port, no persistence; stopped with SHUTDOWN NOSAVE."""

    _OWN = frozenset({"info", "flushall", "ping", "shutdown", "config|get", "client|setname"})

    def __init__(self, binary: str = "redis-server") -> None:
        self.binary = binary
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
        self.client: Any = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        import redis  # the benchmark's only Redis dependency, imported when a Redis server is wanted

        if shutil.which(self.binary) is None and not os.path.exists(self.binary):
            raise RuntimeError(f"{self.binary} not found (apt-get install -y redis-server)")
        for _attempt in range(3):
            self.port = free_port()
            cmd = [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
            cmd += ["--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning"]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
            self.client = redis.Redis(host=HOST, port=self.port, socket_timeout=5)
            deadline = time.monotonic() + timeout
            while self.proc.poll() is None and time.monotonic() < deadline:
                try:
                    if self.client.ping():
                        return
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
            if self.proc.poll() is None:
                self.stop()
                raise RuntimeError(f"redis-server did not answer within {timeout} s:\n{self.output()}")
            if "address already in use" not in self.output().lower():
                break
        raise RuntimeError(f"redis-server exited with {self.proc.returncode if self.proc else '?'}:\n{self.output()}")

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def version(self) -> str:
        return str(self.client.info("server").get("redis_version", "?"))

    def flushall(self) -> None:
        self.client.flushall()

    def used_memory_mb(self) -> float:
        return int(self.client.info("memory")["used_memory"]) / 1024 / 1024

    def keys(self) -> int:
        return int(self.client.dbsize())

    def snapshot(self) -> RedisSnapshot:
        cpu = self.client.info("cpu")
        stats = self.client.info("commandstats")
        calls = {
            name.removeprefix("cmdstat_"): int(value["calls"])
            for name, value in stats.items()
            if name.removeprefix("cmdstat_") not in self._OWN
        }
        used = int(self.client.info("memory")["used_memory"])
        return RedisSnapshot(float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]), calls, used, self._segs_in())

    def _segs_in(self) -> int:
        """Sum of `data_segs_in` over Redis's accepted sockets (`ss -ti`); -1 without `ss` (iproute2)."""
        if shutil.which("ss") is None:
            return -1
        out = subprocess.run(
            ["ss", "-tinH", "state", "established", f"( sport = :{self.port} )"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
        return sum(int(tok.split(":")[1]) for tok in out.split() if tok.startswith("data_segs_in:"))

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(Exception):
            self.client.shutdown(nosave=True)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def redis_delta(before: RedisSnapshot, after: RedisSnapshot, requests: int) -> dict[str, Any]:
    """Redis's cost per HTTP request between two snapshots: CPU µs, commands, round trips, top commands."""
    calls = {name: after.calls.get(name, 0) - before.calls.get(name, 0) for name in after.calls}
    calls = {name: n for name, n in sorted(calls.items(), key=lambda kv: -kv[1]) if n > 0}
    total = sum(calls.values())
    segs = after.data_segs_in - before.data_segs_in - SNAPSHOT_CALLS if after.data_segs_in >= 0 else None
    per = max(requests, 1)
    return {
        "cpu_us_per_req": (after.cpu_s - before.cpu_s) * 1e6 / per,
        "commands_per_req": total / per,
        "round_trips_per_req": segs / per if segs is not None else None,
        "commands": {name: round(n / per, 3) for name, n in list(calls.items())[:6]},
        "used_memory_mb": after.used_memory / 1024 / 1024,
    }


def redis_errors() -> tuple[type[Exception], ...]:
    """redis-py's base exception (not an OSError), for the scripts' "something broke" handler."""
    try:
        import redis
    except ImportError:
        return ()
    return (redis.exceptions.RedisError,)
