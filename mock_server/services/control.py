"""`MockControl`: drive and inspect one mock server from Python, without HTTP.

The ``/__mock`` admin routes are thin wrappers over this object; `create_app` puts one on
``app.state.control``.

Example:
    app = create_app(Settings(seed=1), clock=VirtualClock())
    control: MockControl = app.state.control
    control.arm("fail", count=1)
    ...  # the client creates a job and polls
    control.advance(5)
    assert control.requests[-1].status == 200
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mock_server.contract.problems import Violation
from mock_server.domain.clock import Clock, SystemClock, VirtualClock
from mock_server.domain.jobs import Job
from mock_server.domain.lifecycle import JobStatus
from mock_server.domain.messages import render_message
from mock_server.domain.records.journal import RequestRecorded
from mock_server.domain.scenarios.armed import Rule
from mock_server.domain.scenarios.engine import Sleep
from mock_server.services.container import Services

FORCED_ERROR = "Forced failure (flux-mock admin)"


class MockControl:
    """QA's handle on a running mock: virtual time, scenarios, jobs, the request journal, credits, reset."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._reset_hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    # --- time ------------------------------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The server's clock."""
        return self.services.clock

    @property
    def now(self) -> float:
        """The mock's "now" (epoch seconds)."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the mock's time forward by `seconds` (>= 0) and return the new now; jobs progress accordingly."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 10 * 365 * 86_400:
            raise ValueError(f"seconds has value {seconds!r}; it must be a number from 0 to 315360000 (ten years).")
        return self.clock.advance(float(seconds))

    def freeze(self) -> None:
        """Stop the mock's time (a VirtualClock is always frozen: only `advance` moves it)."""
        if isinstance(self.clock, SystemClock):
            self.clock.freeze()

    def unfreeze(self) -> None:
        """Let the mock's time run again (no effect on a VirtualClock)."""
        if isinstance(self.clock, SystemClock):
            self.clock.unfreeze()

    @property
    def frozen(self) -> bool:
        """Whether time stands still between `advance` calls."""
        return bool(getattr(self.clock, "frozen", False))

    # --- scenarios -------------------------------------------------------------------------------------------

    def arm(
        self, scenario: str, *, count: int | None = None, prompt_regex: str | None = None, rule_id: int | None = None
    ) -> Rule:
        """Arm `scenario` (e.g. ``"fail"`` or ``"reject:429"``) for the next `count` jobs or requests,
        and/or for creates whose prompt matches `prompt_regex`; neither means until cleared.

        Raises UnknownScenario or ScenarioError with a message naming the problem.
        """
        return self.services.scenarios.arm(scenario, count=count, prompt_regex=prompt_regex, rule_id=rule_id)

    @property
    def armed(self) -> list[Rule]:
        """Rules still in force, in the order they are consulted."""
        return self.services.scenarios.rules

    def clear_scenarios(self) -> int:
        """Disarm every rule; returns how many were in force."""
        return self.services.scenarios.clear()

    @property
    def sleep(self) -> Sleep:
        """What ``latency:<ms>`` waits with (default anyio.sleep); replace it in tests to wait no real time."""
        return self.services.scenarios.sleep

    @sleep.setter
    def sleep(self, value: Sleep) -> None:
        self.services.scenarios.sleep = value

    # --- jobs ------------------------------------------------------------------------------------------------

    @property
    def jobs(self) -> list[Job]:
        """Every job, oldest first."""
        return list(self.services.jobs)

    def job(self, message_id: str) -> Job:
        """The job with this id; JobNotFound otherwise."""
        return self.services.jobs.get(message_id)

    def message(self, message_id: str) -> dict[str, Any]:
        """What a progress poll of this job would answer now."""
        return render_message(self.services, self.job(message_id))

    def force(
        self, message_id: str, status: str | JobStatus, progress: int | None = None, error: str | None = None
    ) -> Job:
        """Pin a job's visible status and progress (wins over its plan until `release`).

        Progress defaults to 100 for DONE and to the current progress otherwise; FAIL gets an error text.
        """
        try:
            wanted = JobStatus(status)
        except ValueError:
            allowed = ", ".join(s.value for s in JobStatus)
            raise ValueError(f"status has value {status!r}; it must be one of {allowed}.") from None
        job = self.job(message_id)
        if progress is None:
            progress = 100 if wanted is JobStatus.DONE else job.snapshot(self.now).progress
        if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
            raise ValueError(f"progress has value {progress!r}; it must be an integer from 0 to 100.")
        if wanted is JobStatus.FAIL and not error:
            error = FORCED_ERROR
        return self.services.jobs.force(message_id, wanted, progress, error if wanted is JobStatus.FAIL else None)

    def release(self, message_id: str) -> Job:
        """Undo `force`: the job follows its plan again."""
        return self.services.jobs.release(message_id)

    # --- journal ---------------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecorded]:
        """Every API request the mock answered (not /__mock), oldest first."""
        return self.services.journal.entries()

    def requests_for(self, message_id: str) -> list[RequestRecorded]:
        """The requests about one job (its create and its polls)."""
        return self.services.journal.entries(message_id=message_id)

    @property
    def violations(self) -> list[tuple[RequestRecorded, Violation]]:
        """Every contract violation the mock saw in a request, with the request."""
        return self.services.journal.violations()

    # --- credits ---------------------------------------------------------------------------------------------

    def set_credits(self, account: str, balance: int | None) -> None:
        """Set an API key's balance (None: unlimited)."""
        self.services.credits.set(account, balance)

    @property
    def credits(self) -> dict[str, int | None]:
        """Every API key with an explicit balance."""
        return self.services.credits.snapshot()

    # --- reset -----------------------------------------------------------------------------------------------

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Call `hook` on every `reset` (for services added later, e.g. webhook delivery)."""
        with self._lock:
            self._reset_hooks.append(hook)

    def reset(self) -> None:
        """Everything back to the initial state: jobs (the id sequence restarts), journal, armed scenarios
        (the scenario file's rules return), poll counts, rate-limit windows, credits, Discord tokens, clock offset
        and freeze.
        """
        svc = self.services
        svc.jobs.clear()
        svc.journal.clear()
        svc.scenarios.reset()
        svc.limiter.clear()
        svc.credits.reset()
        svc.tokens.reset()
        if isinstance(svc.clock, SystemClock | VirtualClock):
            svc.clock.reset()
        with self._lock:
            hooks = list(self._reset_hooks)
        for hook in hooks:
            hook()
