"""`verify` holds Midjourney (and video) follow-up flows: the reference client passes the follow-up scenarios, and
each Midjourney client mutant is killed (fast: by the scenario that catches it; slow: by the documented CI
invocation, ``flux-mock verify --scenarios resilience -- CMD``)."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from contracts.commands.verify import verify
from contracts.verify.checks import ClientRules
from contracts.verify.exchanges import contract_routes
from contracts.verify.report import format_report
from contracts.verify.run import PRESETS, VerifyOptions, VerifyReport, verify_client

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "mj_client.py"
MUTANTS = ROOT / "tests" / "support" / "mutant_clients"
FAST_CLIENT = {
    "FLUX_CLIENT_POLL_INTERVAL": "0.2",
    "FLUX_CLIENT_BACKOFF": "0.2",
    "FLUX_CLIENT_MAX_WAIT": "4",
    "FLUX_CLIENT_RETRIES": "3",
}
FAST_RULES = ClientRules(min_poll_interval=0.1, min_backoff=0.1, documented=contract_routes())
FOLLOW_UPS = ("follow-up-fail", "follow-up-reject:429", "follow-up-reject:503")

# (client script and its arguments, scenario, the checks of which one must fire)
CASES: list[tuple[tuple[str, ...], str, tuple[str, ...]]] = [
    (("presses_unoffered.py",), "success", ("refused-request",)),
    (("presses_too_early.py",), "success", ("job-never-polled", "refused-request")),
    (("ignores_follow_up_fail.py",), "follow-up-fail", ("exit-code",)),
    (("ignores_retry_after_on_press.py",), "follow-up-reject:429", ("retry-after",)),
    (("extends_missing_index.py", "--video"), "success", ("request-schema", "refused-request")),
]


def _verify(command: list[str], scenarios: tuple[str, ...]) -> VerifyReport:
    # The documented rate limit (one create per 3 s) would make every follow-up wait 3 s: off, for speed; the
    # scenarios still refuse the follow-ups with 429 and 503.
    options = VerifyOptions(
        scenarios=scenarios, job_seconds=0.6, timeout=20, rules=FAST_RULES, env=FAST_CLIENT, rate_limit="off"
    )
    return verify_client(command, options)


@pytest.fixture(scope="module")
def reports() -> dict[tuple[str, ...], VerifyReport]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {
            (*script, scenario): pool.submit(
                _verify, [sys.executable, str(MUTANTS / script[0]), *script[1:]], (scenario,)
            )
            for script, scenario, _ in CASES
        }
        for video in ((), ("--video",)):
            futures[("example", *video)] = pool.submit(
                _verify, [sys.executable, str(EXAMPLE), *video], ("success", *FOLLOW_UPS)
            )
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("video", [(), ("--video",)], ids=["grid-and-button", "video-and-extend"])
def test_the_reference_client_survives_failed_and_refused_follow_ups(
    reports: dict[tuple[str, ...], VerifyReport], video: tuple[str, ...]
) -> None:
    report = reports[("example", *video)]
    assert report.passed, format_report(report)
    codes = {r.scenario: r.run.exit_code for r in report.results}
    assert codes["success"] == 0
    assert all(codes[s] != 0 for s in FOLLOW_UPS), codes  # it reports the follow-up's FAIL or refusal
    assert all(r.requests >= 3 for r in report.results)  # a create, polls, and the follow-up


@pytest.mark.parametrize(
    ("script", "scenario", "checks"),
    [pytest.param(s, sc, c, id=f"{Path(s[0]).stem}-{sc}") for s, sc, c in CASES],
)
def test_midjourney_client_mutants_are_killed(
    reports: dict[tuple[str, ...], VerifyReport], script: tuple[str, ...], scenario: str, checks: tuple[str, ...]
) -> None:
    report = reports[(*script, scenario)]
    found = {v.check for v in report.violations}
    assert found & set(checks), format_report(report)


def test_the_resilience_preset_exercises_failed_and_refused_follow_ups() -> None:
    assert set(FOLLOW_UPS) <= set(PRESETS["resilience"])


@pytest.mark.slow  # every mutant under the whole resilience preset (~15 client runs each)
@pytest.mark.parametrize(("script", "checks"), [pytest.param(s, c, id=Path(s[0]).stem) for s, _, c in CASES])
def test_each_mutant_is_killed_by_the_documented_ci_invocation(
    script: tuple[str, ...], checks: tuple[str, ...]
) -> None:
    args = ["--scenarios", "resilience", "--job-seconds", "0.6", "--min-poll-interval", "0.1", "--min-backoff", "0.1"]
    env = " ".join(f"{k}={v}" for k, v in FAST_CLIENT.items())
    command = ["--", "env", *env.split(), sys.executable, str(MUTANTS / script[0]), *script[1:]]
    result = CliRunner().invoke(verify, [*args, *command])
    assert result.exit_code == 1, result.output
    assert any(f"[{check}]" in result.output for check in checks), result.output
