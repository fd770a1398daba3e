"""The collector policy: freeze once at start, then once per `every` new jobs."""

from __future__ import annotations

import gc

import pytest

from mock_server import VirtualClock
from mock_server.domain.jobs import JobStore, Timing
from mock_server.services import collector


def test_freezes_at_install_and_every_n_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))
    store = JobStore(VirtualClock(0.0))
    collector.install(store, every=3)
    assert len(calls) == 1
    for _ in range(7):
        store.submit(kind="imagine", account="k", timeout=900, timing=Timing(duration=1))
    assert len(calls) == 1 + 2  # after jobs 3 and 6
