"""What ``flux-mock verify`` takes: `VerifyOptions` (each field declares its flag), the scenario presets, and the
exit-code expectation of every scenario."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from contracts.verify.conduct import ClientRules
from mock_server import option, setting_option

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


def check_names(scenario: str) -> None:
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
