"""`flux-mock verify`: run a client against a fresh mock once per scenario and judge what it did.

Three steps per scenario, the last one pure:

1. serve: a fresh mock on an ephemeral loopback port, the scenario armed for every request;
2. run: CMD with ``IMAGINEPRO_BASE_URL``, ``IMAGINEPRO_API_KEY`` and ``IMAGINEPRO_MOCK_ADMIN_URL`` set,
   bounded by a timeout (the whole process group is killed when it runs over);
3. judge: the request journal, plus what the mock answered, goes through `client_checks`, and the
   client's exit code is held to the scenario's expectation.

Example:
    report = verify_client(["python", "examples/client.py"], VerifyOptions(scenarios=("success", "fail")))
    print(format_report(report))
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contracts.core.schema import contract
from contracts.verify.blocked_webhooks import BlockedWebhook, blocked_webhooks
from contracts.verify.checks import (
    CLIENT_CHECKS,
    CREATE_OPERATIONS,
    ClientViolation,
    Exchange,
    job_timeout,
    poll_stats,
    run_checks,
)
from contracts.verify.exchanges import AnswerRecorder, contract_routes, exchanges_from
from contracts.verify.options import DEFAULT_EXPECTATIONS as DEFAULT_EXPECTATIONS
from contracts.verify.options import DEFAULT_FAILURE_PATTERN as DEFAULT_FAILURE_PATTERN
from contracts.verify.options import DEFAULT_SCENARIOS as DEFAULT_SCENARIOS
from contracts.verify.options import EXIT_RULES as EXIT_RULES
from contracts.verify.options import PRESETS as PRESETS
from contracts.verify.options import ExitRule as ExitRule
from contracts.verify.options import VerifyError as VerifyError
from contracts.verify.options import VerifyOptions as VerifyOptions
from contracts.verify.options import check_names
from contracts.verify.options import expand_scenarios as expand_scenarios

if TYPE_CHECKING:
    from mock_server import Clock, Settings

_OUTPUT_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True)
class ClientRun:
    """How one run of the client ended."""

    exit_code: int | None  # None when it had to be killed
    killed: bool
    duration: float
    stdout: str = ""
    stderr: str = ""


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """The verdict on one scenario run."""

    scenario: str
    expected: ExitRule
    run: ClientRun
    requests: int
    polls: int
    violations: tuple[ClientViolation, ...]
    blocked: tuple[BlockedWebhook, ...] = ()  # webhooks the mock refused to send (not violations)

    @property
    def passed(self) -> bool:
        """No violations."""
        return not self.violations


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Every scenario's verdict for one command."""

    command: tuple[str, ...]
    options: VerifyOptions
    results: tuple[ScenarioResult, ...]

    @property
    def violations(self) -> list[ClientViolation]:
        """All violations, scenario by scenario."""
        return [v for r in self.results for v in r.violations]

    @property
    def passed(self) -> bool:
        """True when no scenario found a violation."""
        return all(r.passed for r in self.results)


# --- judging (pure) ---------------------------------------------------------------------------------------


def judge(
    scenario: str,
    run: ClientRun,
    exchanges: Sequence[Exchange],
    options: VerifyOptions,
) -> ScenarioResult:
    """Apply the client checks and the exit-code expectation to one finished run."""
    names = [n for n in CLIENT_CHECKS if n not in options.skip_checks]
    found = run_checks(exchanges, options.rules, names=names)
    expected = options.expectation(scenario)
    if scenario.startswith("follow-up-") and not any(e.is_create and _follows_up(e) for e in exchanges):
        expected = "any"  # the client made no follow-up: the scenario never touched it
    found += exit_violations(scenario, run, expected, options)
    return ScenarioResult(scenario, expected, run, len(exchanges), poll_stats(exchanges).polls, tuple(found))


# What the mock's follow-up-* scenarios touch (their documented effect): jobs acting on an earlier result.
FOLLOW_UP_KINDS = frozenset({"upscale", "button", "video-extend"})


def _follows_up(e: Exchange) -> bool:
    return e.operation_id is not None and contract().operation(e.operation_id).job_kind in FOLLOW_UP_KINDS


def exit_violations(scenario: str, run: ClientRun, expected: ExitRule, options: VerifyOptions) -> list[ClientViolation]:
    """The ``client-timeout`` and ``exit-code`` verdicts of one run."""
    if run.killed:
        if "client-timeout" in options.skip_checks:
            return []
        message = (
            f"the client was still running after {options.timeout:g} s in scenario {scenario!r} and was killed; "
            "give up on a job after a deadline of your own, or raise --timeout if the client needs longer."
        )
        return [ClientViolation("client-timeout", message)]
    if "exit-code" in options.skip_checks or expected == "any":
        return []
    code = run.exit_code
    reported = re.search(options.failure_pattern, run.stdout + run.stderr) is not None
    ok = {
        "zero": code == 0,
        "nonzero": code != 0,
        "failure": code != 0 or reported,
    }[expected]
    if ok:
        return []
    if expected == "zero":
        message = (
            f"the client exited {code} in scenario {scenario!r}, where the job succeeds; a working client gets the "
            f"image and exits 0.{_tail(run)}"
        )
    elif expected == "nonzero":
        message = f"the client exited 0 in scenario {scenario!r}; it must exit non-zero when the job does not succeed."
    else:
        message = (
            f"the client exited 0 in scenario {scenario!r} and reported no failure; when a job FAILs or never "
            f"finishes, exit non-zero or say so (output matching {options.failure_pattern!r})."
        )
    return [ClientViolation("exit-code", message)]


def _tail(run: ClientRun, lines: int = 3) -> str:
    text = [line[:200] for line in (run.stderr or run.stdout).strip().splitlines()[-lines:]]
    return (" Last output: " + " | ".join(text)) if text else ""


# --- running ------------------------------------------------------------------------------------------------


def mock_settings(scenario: str, options: VerifyOptions) -> Settings:
    """The mock's settings for one run; `scenario` becomes the server-wide default, so every request gets it.

    This is the one place verify chooses scenarios. Raises VerifyError for an unknown or malformed scenario.
    """
    from mock_server import MockServerError, Settings

    values: dict[str, Any] = {
        "job_seconds": options.job_seconds,
        "seed": options.seed,
        "api_keys": (options.api_key,),
        "rate_limit": options.rate_limit,
        "scenario": scenario,
    }
    if options.webhook_allow_hosts:
        values["webhook_allow_hosts"] = (*Settings().webhook_allow_hosts, *options.webhook_allow_hosts)
    check_names(scenario)
    try:
        return Settings(**values)
    except MockServerError as exc:
        message = str(exc)
        if message.startswith("--scenario ("):  # the settings wrapper only repeats the value
            message = message.partition("; ")[2] or message
        raise VerifyError(f"--scenarios: {message}") from None


class TimeoutFastForward:
    """In the ``timeout`` scenario, jump the mock clock to each new job's deadline `after` real seconds.

    A job without a `timeout` field would otherwise take the API's default Timeout; the client
    still sees PROCESSING first and then FAIL with the timeout error, only sooner. Journal times include
    the jump, which only ever lengthens one gap between two requests.
    """

    def __init__(self, clock: Clock, entries: Callable[[], list[Any]], after: float) -> None:
        self.clock = clock
        self.entries = entries
        self.after = after
        self._due: dict[str, tuple[float, float]] = {}  # messageId -> (real time of the jump, mock deadline)
        self._done: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="flux-mock-fast-forward", daemon=True)

    def __enter__(self) -> TimeoutFastForward:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.tick(time.monotonic())

    def tick(self, real_now: float) -> None:
        """One pass: note new jobs, and jump to the deadline of each job created `after` real seconds ago."""
        for e in self.entries():
            new = e.message_id and e.message_id not in self._due and e.message_id not in self._done
            if new and e.operation_id in CREATE_OPERATIONS and e.status == 200:
                self._due[e.message_id] = (real_now + self.after, e.at + job_timeout(e.job))
        for message_id, (when, deadline) in list(self._due.items()):
            if when <= real_now:
                if self.clock.now() < deadline:
                    self.clock.advance(deadline - self.clock.now())
                del self._due[message_id]
                self._done.add(message_id)


def client_env(base_url: str, api_key: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The client's environment: ours, plus where the mock is and the key it accepts."""
    env = dict(os.environ)
    env.update(extra or {})
    env["IMAGINEPRO_BASE_URL"] = base_url
    env["IMAGINEPRO_API_KEY"] = api_key
    from mock_server import ADMIN_PREFIX

    env["IMAGINEPRO_MOCK_ADMIN_URL"] = base_url + ADMIN_PREFIX
    return env


def run_client(command: Sequence[str], env: Mapping[str, str], timeout: float, cwd: str | None = None) -> ClientRun:
    """Run `command` in its own process group; kill the whole group if it outlives `timeout` seconds."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            list(command),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills its children too
        )
    except OSError as exc:
        raise VerifyError(f"Cannot run {' '.join(command)!r}: {exc.strerror or exc}.") from None
    killed = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        killed = True
        _kill_group(proc)
        try:
            out, err = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # a grandchild in another session still holds the pipes
            out, err = b"", b""
    return ClientRun(
        exit_code=None if killed else proc.returncode,
        killed=killed,
        duration=time.monotonic() - started,
        stdout=out[-_OUTPUT_LIMIT:].decode("utf-8", "replace"),
        stderr=err[-_OUTPUT_LIMIT:].decode("utf-8", "replace"),
    )


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    # SIGTERM first so the client can clean up; SIGKILL for the rest of the group, which may outlive its
    # leader (a child that ignores SIGTERM).
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(2.0)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5.0)


def run_scenario(command: Sequence[str], scenario: str, options: VerifyOptions) -> ScenarioResult:
    """Serve a fresh mock with `scenario` armed, run the client once against it, and judge the run."""
    from mock_server import LiveServer, SystemClock, create_app

    recorder = AnswerRecorder()
    server = LiveServer(recorder, settings=mock_settings(scenario, options))  # port first: image URLs name it
    clock = SystemClock()
    app = create_app(server.settings, clock=clock)
    recorder.app = app
    journal = app.state.services.journal
    fast_forward = options.fast_forward and scenario.partition(":")[0] == "timeout"
    with (
        server,
        TimeoutFastForward(clock, journal.entries, options.job_seconds) if fast_forward else contextlib.nullcontext(),
    ):
        run = run_client(command, client_env(server.url, options.api_key, options.env), options.timeout, options.cwd)
        recorder.settle()
    entries = journal.entries()
    result = judge(scenario, run, exchanges_from(entries, recorder.answers), options)
    return dataclasses.replace(result, blocked=blocked_webhooks(app.state.services.webhooks.journal.entries()))


def verify_client(
    command: Sequence[str],
    options: VerifyOptions | None = None,
    *,
    on_result: Callable[[ScenarioResult], None] | None = None,
) -> VerifyReport:
    """Run `command` once per scenario against a fresh mock and collect the verdicts.

    Args:
        command: the client to run, e.g. ``["python", "my_client.py"]``.
        options: scenarios, limits and expectations (default: success, fail and timeout).
        on_result: called after each scenario, e.g. to print progress.
    """
    options = options or VerifyOptions()
    options = dataclasses.replace(options, scenarios=expand_scenarios(options.scenarios))
    if not command:
        raise VerifyError("Give the client command after --, e.g. flux-mock verify -- python my_client.py")
    for scenario in options.scenarios:
        mock_settings(scenario, options)  # every scenario is valid before the first run starts
    if not options.rules.documented:
        options = dataclasses.replace(options, rules=dataclasses.replace(options.rules, documented=contract_routes()))
    results = []
    for scenario in options.scenarios:
        result = run_scenario(command, scenario, options)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return VerifyReport(tuple(command), options, tuple(results))
