"""``flux-mock serve --workers N``: N worker processes on one port, sharing state through ``--store redis://``.

The port is held here and every worker listens on it with SO_REUSEPORT, so the kernel spreads connections
over the workers.
On Linux the workers are forked, all at once, from this process once it has imported what a worker runs: each
then only builds its app, instead of starting an interpreter and importing everything again (on two busy
cores: 0.5-0.8 s to the first answer instead of 1.5-2.7 s spawned). Elsewhere they are spawned. Either way a
worker gets its settings as a record and builds all its state itself.
A worker that dies is started again; the shared store keeps its jobs, and its webhook deliveries are taken
over by the others once its leases run out. Ctrl+C (or SIGTERM) stops them all.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

import orjson

from mock_server.config.settings import Settings

STARTUP_S = 5.0  # a worker that exits sooner than this after starting is a broken set-up, not a crash to heal
STOP_WAIT_S = 10.0


def settings_record(settings: Settings) -> bytes:
    """Settings as JSON, for a worker process."""
    return orjson.dumps(dataclasses.asdict(settings))


def settings_from_record(data: bytes) -> Settings:
    """The Settings a `settings_record` holds (lists back to tuples)."""
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in orjson.loads(data).items()}
    return Settings(**values)


def _worker(record: bytes) -> None:
    # Runs in a new process: its own socket on the shared port, its app, its event loop. A forked worker inherits
    # the parent's signal handlers; until uvicorn installs its own, Ctrl+C and SIGTERM must act as usual.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    import uvicorn

    from mock_server.run.listener import bind_socket, uvicorn_config
    from mock_server.web.app import create_app

    settings = settings_from_record(record)
    app = create_app(settings)
    # Listen only once the app is built: a socket in the port's group takes its share of new connections at once,
    # and they would wait for this worker's start-up while the others are ready.
    sock = bind_socket(settings.host, settings.port, reuse_port=True)
    uvicorn.Server(uvicorn_config(app, settings, log_level=settings.log_level)).run(sockets=[sock])


def _prepare() -> None:
    """Import what `_worker` runs and read the contract, once, here: forked workers inherit both."""
    import uvicorn  # noqa: F401

    import mock_server.run.listener  # noqa: F401
    from mock_server.contract.spec import load_spec
    from mock_server.web.app import create_app  # noqa: F401

    load_spec()


def _context() -> multiprocessing.context.ForkContext | multiprocessing.context.SpawnContext:
    # fork only on Linux: elsewhere (macOS) system libraries may not survive a fork, and SO_REUSEPORT does not
    # spread connections anyway.
    if sys.platform == "linux":
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


class Workers:
    """Start, watch and stop the worker processes."""

    def __init__(
        self, settings: Settings, say: Callable[[str], Any], *, target: Callable[[bytes], None] = _worker
    ) -> None:
        self.settings = settings
        self.say = say
        self.target = target  # what a worker process runs (tests give a stand-in)
        self.startup_s = STARTUP_S
        self._ctx = _context()
        self._record = settings_record(settings)
        self.procs: list[tuple[BaseProcess, float]] = []
        self._stopping = False

    def _start_one(self) -> tuple[BaseProcess, float]:
        proc = self._ctx.Process(target=self.target, args=(self._record,), name="flux-mock-worker", daemon=False)
        proc.start()
        return proc, time.monotonic()

    def run(self, *, signals: bool = True) -> int:
        """Serve until Ctrl+C or SIGTERM (or `stop()`); returns the exit status."""
        if signals:
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, self._stop)
        if self.target is _worker and self._ctx.get_start_method() == "fork":
            _prepare()
        self.procs = [self._start_one() for _ in range(self.settings.workers)]  # all at once: they start in parallel
        pids = ", ".join(str(p.pid) for p, _ in self.procs)
        self.say(f"  {self.settings.workers} workers (pids {pids}) share {self.settings.store}")
        status = 0
        while not self._stopping:
            time.sleep(0.2)
            for i, (proc, started) in enumerate(self.procs):
                if proc.is_alive() or self._stopping:
                    continue
                if time.monotonic() - started < self.startup_s:
                    self.say(f"worker {proc.pid} exited with status {proc.exitcode} while starting; stopping.")
                    self._stopping, status = True, 1
                    break
                self.say(f"worker {proc.pid} exited with status {proc.exitcode}; starting another.")
                self.procs[i] = self._start_one()
        self._stop_all()
        return status

    def _stop(self, signum: int, frame: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop every worker (from a signal handler or another thread)."""
        self._stopping = True

    def _stop_all(self) -> None:
        for proc, _ in self.procs:
            if proc.is_alive() and proc.pid is not None:
                proc.terminate()  # SIGTERM: uvicorn stops gracefully (webhooks get their grace period)
        deadline = time.monotonic() + STOP_WAIT_S + self.settings.webhook_grace_s
        for proc, _ in self.procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
