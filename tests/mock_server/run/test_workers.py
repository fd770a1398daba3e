"""`--workers N`: the settings a worker process is given (the processes themselves: tests/fleet)."""

from __future__ import annotations

import threading
import time

import worker_standins

from mock_server import Settings
from mock_server.run.workers import Workers, settings_from_record, settings_record

STORE = "redis://127.0.0.1:6379/0"  # never reached: these workers are stand-ins


def test_a_worker_gets_exactly_the_settings_of_its_parent() -> None:
    settings = Settings(
        seed=7, api_keys=("sk-a", "sk-b"), store="redis://127.0.0.1:6379/3", workers=2, webhook_allow_hosts=("x.test",)
    )
    assert settings_from_record(settings_record(settings)) == settings


def test_a_worker_that_dies_while_starting_stops_the_server_with_an_error() -> None:
    said: list[str] = []
    workers = Workers(Settings(store=STORE, workers=2), said.append, target=worker_standins.exits_at_once)
    assert workers.run(signals=False) == 1
    assert any("exited with status 3 while starting; stopping" in line for line in said)


def test_a_worker_that_dies_later_is_started_again_and_stop_ends_them_all() -> None:
    said: list[str] = []
    workers = Workers(Settings(store=STORE, workers=2), said.append, target=worker_standins.dies_after_a_while)
    workers.startup_s = 0.1
    runner = threading.Thread(target=workers.run, kwargs={"signals": False})
    runner.start()
    deadline = time.monotonic() + 30
    while not any("starting another" in line for line in said) and time.monotonic() < deadline:
        time.sleep(0.05)
    workers.target = worker_standins.serves_until_stopped
    workers.stop()
    runner.join(30)
    assert not runner.is_alive()
    assert any("exited with status 9; starting another" in line for line in said)
    assert all(not proc.is_alive() for proc, _ in workers.procs)
