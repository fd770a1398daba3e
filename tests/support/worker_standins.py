"""Stand-ins for a worker process's main (`mock_server.run.workers.Workers(target=...)`): light to import."""

from __future__ import annotations

import time


def exits_at_once(record: bytes) -> None:
    """A worker that fails while starting."""
    raise SystemExit(3)


def dies_after_a_while(record: bytes) -> None:
    """A worker that crashes once running."""
    time.sleep(0.4)
    raise SystemExit(9)


def serves_until_stopped(record: bytes) -> None:
    """A worker that runs until it is terminated."""
    time.sleep(60)
