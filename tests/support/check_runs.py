"""Running `flux-mock check` in-process against a (mutant) server on a virtual clock, as the check tests do."""

from __future__ import annotations

from typing import Any

from mutants import API_KEY, Rewrite

from contracts import CheckOptions, CheckReport, VirtualTimer, run_check
from mock_server import VirtualClock

LOCAL = "http://127.0.0.1:8080"


# The reduced budget every mutant must be killed with: all kit parts plus schemathesis' examples phase.
KILL_PHASES = frozenset({"lifecycle", "probes", "examples"})


def check(app: Any, clock: VirtualClock, **options: Any) -> CheckReport:
    defaults: dict[str, Any] = {"token": API_KEY, "seed": 3, "max_examples": 3, "poll_interval": 0.5}
    return run_check(
        CheckOptions(options.pop("base_url", LOCAL), **{**defaults, **options}), app=app, timer=VirtualTimer(clock)
    )


def jobs_in(app: Any) -> int:
    while isinstance(app, Rewrite):
        app = app.app
    return len(app.state.services.jobs)


FLUX_FLOW = frozenset({"fluxImagine", "fetchMessage", "fetchMessageLegacy"})
