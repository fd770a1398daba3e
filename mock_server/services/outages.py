"""Outages said once: one log line when a dependency goes, one when it is back with what failed meanwhile.

A lost Redis or a webhook receiver that keeps failing is retried several times a second; logging each retry
(with a traceback) buried the console. An `Outage` turns the retries into two lines, e.g.

    Redis at redis://127.0.0.1:6379/0 is unreachable; answering 503, retrying (Error 111 connecting ...)
    Redis at redis://127.0.0.1:6379/0 answers again after 10.2 s; 57 operations failed meanwhile

Each failure's traceback is logged only at debug level (``--log-level debug``). One event loop per worker
calls it, so it needs no lock.
"""

from __future__ import annotations

import logging
import time


class Outage:
    """The state of one dependency (a store, a receiver host): up, or down since a moment with a failure count."""

    def __init__(self, log: logging.Logger, going: str, back: str, *, unit: str = "operation") -> None:
        self.log = log
        self.going = going  # "Redis at ... is unreachable; answering 503, retrying"
        self.back = back  # "Redis at ... answers again"
        self.unit = unit
        self.failures = 0
        self.since: float | None = None  # monotonic instant it went down; None while up

    @property
    def down(self) -> bool:
        """Whether the last word was a failure."""
        return self.since is not None

    def failed(self, exc: BaseException | str) -> None:
        """One more failure: the first of an outage is logged, the rest only counted (traceback at debug level)."""
        self.failures += 1
        if self.since is None:
            self.since = time.monotonic()
            self.log.warning("%s (%s)", self.going, _first_line(exc))
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("%s: failure %d", self.going, self.failures, exc_info=isinstance(exc, BaseException) and exc)

    def recovered(self) -> None:
        """It answered: if it was down, say once that it is back, for how long it was away and what failed."""
        if self.since is None:
            return
        away, failures = time.monotonic() - self.since, self.failures
        self.since, self.failures = None, 0
        unit = self.unit if failures == 1 else self.unit + "s"
        self.log.warning("%s after %.1f s; %d %s failed meanwhile", self.back, away, failures, unit)


def _first_line(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
