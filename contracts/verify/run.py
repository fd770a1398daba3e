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
import difflib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from contracts.core.schema import contract
from contracts.verify.blocked_webhooks import BlockedWebhook, blocked_webhooks
from contracts.verify.checks import (
    CLIENT_CHECKS,
    CREATE_OPERATIONS,
    ClientRules,
    ClientViolation,
    Exchange,
    job_timeout,
    poll_stats,
    run_checks,
)
from contracts.verify.exchanges import AnswerRecorder, contract_routes, exchanges_from
from mock_server import option, setting_option

if TYPE_CHECKING:
    from mock_server import Clock, Settings

ExitRule = Literal["zero", "nonzero", "failure", "any"]
EXIT_RULES: tuple[ExitRule, ...] = ("zero", "nonzero", "failure", "any")
# What a well-behaved client does per scenario name (the part before ':'): a job that FAILs or never ends must be
# reported, a slow or flaky one must still end in an image. Wire faults are armed for the whole run, so a client
# facing them can only give up. Scenarios not listed expect nothing ("any").
DEFAULT_EXPECTATIONS: dict[str, ExitRule] = {
    "success": "zero",
    "slow": "zero",
    "queued": "zero",
    "not-yet": "zero",
    "flaky": "zero",
    "latency": "zero",
    "fail": "failure",
    "timeout": "failure",
    "stall": "failure",
    "reject": "failure",
    "disconnect": "failure",
    "garbage": "failure",
    # A client's follow-up (an upscale, a button press, an extend) FAILs or is refused every time: the client must
    # say so. A client that makes no follow-up is not judged on its exit by these (see `judge`).
    "follow-up-fail": "failure",
    "follow-up-reject": "failure",
}
# Named sets of scenarios for --scenarios. The default run is quick (does the client get an image, report a FAIL and
# a timeout?); `resilience` adds what a client must survive on a bad day: a stalled job, a flaky poll, 429 and 503
# refusals, dropped connections and garbled answers. `all` is every registered scenario a client must survive (a
# test holds it to the mock's registry). Arguments are chosen so each run stays short at the default --job-seconds.
DEFAULT_SCENARIOS = ("success", "fail", "timeout")
PRESETS: dict[str, tuple[str, ...]] = {
    "default": DEFAULT_SCENARIOS,
    "resilience": (
        *DEFAULT_SCENARIOS,
        "stall",
        "flaky:2",
        "reject:429",
        "reject:503",
        "disconnect",
        "garbage",
        # A follow-up action fails or is refused while the first job succeeds (Midjourney buttons, Flux upscale,
        # video extend).
        "follow-up-fail",
        "follow-up-reject:429",
        "follow-up-reject:503",
    ),
}
PRESETS["all"] = (
    *PRESETS["resilience"],
    "slow:6",
    "queued:3",
    "not-yet:3",
    "latency:500",
    "reject:500",
    "reject:502",
)


def _check_names(scenario: str) -> None:
    """Refuse an unknown scenario name with a did-you-mean over the registered scenarios and the presets."""
    from mock_server import Settings, SettingsError, UnknownScenario

    for text in scenario.split(","):
        try:
            Settings(scenario=text)
        except SettingsError as exc:
            cause: BaseException | None = exc
            while cause is not None and not isinstance(cause, UnknownScenario):
                cause = cause.__context__  # the registry's refusal, under the settings' own
            if cause is None:
                continue  # a bad argument: the settings say what is wrong
            close = difflib.get_close_matches(cause.name.lower(), [*cause.known, *PRESETS], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise VerifyError(
                f"--scenarios: unknown scenario or preset {cause.name!r}.{hint} Scenarios: {', '.join(cause.known)}; "
                f"presets: {', '.join(PRESETS)} (see flux-mock verify --help)."
            ) from None


def expand_scenarios(names: Sequence[str]) -> tuple[str, ...]:
    """Scenario texts with preset names (`PRESETS`: default, resilience, all) replaced by their scenarios, once each."""
    out: list[str] = []
    for name in names:
        for scenario in PRESETS.get(name.strip(), (name.strip(),)):
            if scenario and scenario not in out:
                out.append(scenario)
    return tuple(out)


DEFAULT_FAILURE_PATTERN = r"(?i)\b(fail(ed|ure|s)?|error|timed? ?out|gave up|giving up)\b"
_OUTPUT_LIMIT = 64 * 1024


class VerifyError(Exception):
    """Raised when verify cannot run at all (bad command, unknown scenario); not a client violation."""


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """How `verify_client` runs and judges a client.

    Attributes:
        scenarios: scenario texts, one run each, e.g. ``("success", "fail", "reject:429")``, or preset names
            (``resilience``, ``all``; see `PRESETS`).
        timeout: seconds one run may take before the client's process group is killed.
        job_seconds: processing time of a job on the mock.
        seed: the mock's seed (the same seed replays the same ids and images).
        api_key: the key exported as IMAGINEPRO_API_KEY; the mock accepts only this one.
        rules: the limits the client checks apply.
        expectations: exit rule per scenario name or text, over `DEFAULT_EXPECTATIONS`.
        failure_pattern: output that counts as "the client reported a failure" for the ``failure`` rule.
        skip_checks: check names not to run.
        env: extra environment for the client.
        cwd: the client's working directory (default: the current one).
        rate_limit: the mock's rate limit, ``documented`` (1 per 3 s general, 10/s polls; 429 + Retry-After) or ``off``.
        fast_forward: in the ``timeout`` scenario, jump the mock clock to a job's deadline after `job_seconds`.
        webhook_allow_hosts: extra hosts the mock may send webhooks to (loopback always may).
    """

    scenarios: tuple[str, ...] = field(
        default=DEFAULT_SCENARIOS,
        metadata=option(
            "Comma-separated scenarios, one run of the client each (e.g. success,fail,timeout,stall,reject:429,"
            "flaky:2), or a preset: resilience (adds stall, flaky:2, reject:429, reject:503, disconnect, garbage, "
            "follow-up-fail, follow-up-reject:429, follow-up-reject:503; recommended for CI) or all.",
            metavar="LIST",
            separator=",",
        ),
    )
    timeout: float = field(
        default=60.0,
        metadata=option(
            "Kill the client (its whole process group) if one run takes longer, and report it.",
            metavar="SECONDS",
            minimum=0,
            above=True,
        ),
    )
    job_seconds: float = field(default=3.0, metadata=setting_option("job_seconds"))
    seed: int = field(default=0, metadata=option("The mock's seed (same seed, same ids).", metavar="N"))
    api_key: str = field(
        default="sk-flux-mock-verify",
        metadata=option("Exported as IMAGINEPRO_API_KEY; the mock accepts only this key.", metavar="KEY"),
    )
    rules: ClientRules = field(default_factory=ClientRules)
    expectations: Mapping[str, ExitRule] = field(
        default_factory=dict,
        metadata=option(
            "Exit-code expectation: zero, nonzero, failure (non-zero or output matching --failure-pattern) or any. "
            "Defaults: success=zero, fail=failure, timeout=failure, ... Repeatable.",
            metavar="SCENARIO=RULE",
            flag="--expect",
        ),
    )
    failure_pattern: str = field(
        default=DEFAULT_FAILURE_PATTERN,
        metadata=option(
            "Output that counts as the client reporting a failure (a regular expression).", metavar="REGEX"
        ),
    )
    skip_checks: tuple[str, ...] = field(
        default=(), metadata=option("Do not run this check (repeatable).", metavar="NAME", flag="--skip-check")
    )
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None
    rate_limit: str = field(
        default="documented",
        metadata=option(
            "documented: the mock answers 429 + Retry-After past 1 request per 3 s (general) or 10/s (polls).",
            choices=("documented", "off"),
        ),
    )
    fast_forward: bool = field(
        default=True,
        metadata=option("In the timeout scenario, jump the mock clock to the job's deadline after --job-seconds."),
    )
    webhook_allow_hosts: tuple[str, ...] = field(
        default=(),
        metadata=option(
            "Let the mock send webhooks to this host too (repeatable; loopback always may; *.domain, *).",
            metavar="HOST",
            flag="--webhook-allow-host",
        ),
    )

    def expectation(self, scenario: str) -> ExitRule:
        """The exit rule for `scenario`: an exact override, then one by name, then the default table."""
        name = scenario.partition(":")[0]
        for table in (self.expectations, DEFAULT_EXPECTATIONS):
            for key in (scenario, name):
                if key in table:
                    return table[key]
        return "any"


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
    _check_names(scenario)
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
