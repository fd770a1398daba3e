"""flux-mock verify: the pure parts (pairing, judging, reports), the process handling, and real client runs.

The real runs are the issue's acceptance test: the example client passes every scenario it is run in,
and each mutant fails for its own reason. They run concurrently (a few at a time) to keep the suite quick.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from contracts.commands.verify import verify
from contracts.verify.checks import ClientRules
from contracts.verify.exchanges import Answer, contract_routes, exchanges_from
from contracts.verify.report import format_report
from contracts.verify.run import (
    DEFAULT_SCENARIOS,
    PRESETS,
    ClientRun,
    TimeoutFastForward,
    VerifyError,
    VerifyOptions,
    VerifyReport,
    exit_violations,
    expand_scenarios,
    judge,
    mock_settings,
    run_client,
    verify_client,
)
from mock_server import RequestRecorded, VirtualClock

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "client.py"
MUTANTS = ROOT / "tests" / "support" / "mutant_clients"
JOB = "2f6c1a52-8a4e-4d5b-9a57-1c0de8e4f001"


def entry(seq: int, method: str, path: str, status: int = 200, **kw: object) -> RequestRecorded:
    return RequestRecorded(
        seq=seq, at=100.0 + seq, method=method, path=path, query="", status=status, duration_ms=1.0, **kw
    )  # type: ignore[arg-type]


# --- fast-forward ---------------------------------------------------------------------------------------------


def test_fast_forward_jumps_to_the_job_deadline_once() -> None:
    clock = VirtualClock(start=1000.0)
    created = dataclasses.replace(
        entry(
            1,
            "POST",
            "/api/v1/flux/imagine",
            operation_id="fluxImagine",
            message_id=JOB,
            body='{"prompt": "a fox", "timeout": 60}',
            job={"kind": "imagine", "timeout": 60},
        ),
        at=1000.0,
    )
    ff = TimeoutFastForward(clock, lambda: [created], after=2.0)
    ff.tick(real_now=10.0)
    assert clock.now() == 1000.0  # not yet: the client gets `after` seconds of a normal job first
    ff.tick(real_now=12.0)
    assert clock.now() == 1060.0  # created at 1000 with timeout 60
    ff.tick(real_now=20.0)
    assert clock.now() == 1060.0  # once per job


def test_a_long_prompt_does_not_hide_the_timeout_from_fast_forward() -> None:
    # Through a real mock: the journal keeps 4,096 bytes of the body, the job fields keep the timeout.
    import httpx

    from mock_server import Settings, create_app

    clock = VirtualClock(start=1000.0)
    app = create_app(Settings(api_keys=("sk-x",), rate_limit="off"), clock=clock)
    body = {"prompt": "a" * 4_200, "timeout": 30}

    async def create() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
            return await client.post("/api/v1/flux/imagine", json=body, headers={"Authorization": "Bearer sk-x"})

    answer = asyncio.run(create())
    assert answer.status_code == 200, answer.text
    [created] = app.state.services.journal.entries()
    assert '"timeout"' not in (created.body or "")  # the excerpt lost it
    ff = TimeoutFastForward(clock, app.state.services.journal.entries, after=1.0)
    ff.tick(real_now=0.0)
    ff.tick(real_now=1.0)
    assert clock.now() == created.at + 30  # judged with 30 s, not the default 900 s


# --- judging -------------------------------------------------------------------------------------------------


def finished(code: int | None, out: str = "", killed: bool = False) -> ClientRun:
    return ClientRun(exit_code=code, killed=killed, duration=1.0, stdout=out)


@pytest.mark.parametrize(
    ("rule", "code", "out", "ok"),
    [
        ("zero", 0, "", True),
        ("zero", 1, "", False),
        ("nonzero", 0, "", False),
        ("nonzero", 2, "", True),
        ("failure", 1, "", True),
        ("failure", 0, "job failed: content filter", True),
        ("failure", 0, "saved fox.png", False),
        ("any", 0, "", True),
    ],
)
def test_exit_code_rules(rule: str, code: int, out: str, ok: bool) -> None:
    found = exit_violations("s", finished(code, out), rule, VerifyOptions())  # type: ignore[arg-type]
    assert (found == []) is ok
    if not ok:
        assert found[0].check == "exit-code"


def test_a_killed_client_is_a_client_timeout_unless_skipped() -> None:
    [found] = exit_violations("stall", finished(None, killed=True), "failure", VerifyOptions(timeout=7))
    assert found.check == "client-timeout"
    assert "after 7 s" in found.message
    assert (
        exit_violations("stall", finished(None, killed=True), "failure", VerifyOptions(skip_checks=("client-timeout",)))
        == []
    )


def test_expectations_exact_then_by_name_then_defaults() -> None:
    options = VerifyOptions(expectations={"reject:429": "zero", "fail": "nonzero"})
    assert options.expectation("reject:429") == "zero"
    assert options.expectation("reject:503") == "failure"
    assert options.expectation("fail:40") == "nonzero"
    assert options.expectation("success") == "zero"
    assert options.expectation("status-variant") == "any"


def test_judge_counts_polls_and_combines_checks_with_the_exit_code() -> None:
    poll = f"/api/v1/message/fetch/{JOB}"
    entries = [entry(1, "POST", "/api/v1/flux/imagine", operation_id="fluxImagine", message_id=JOB)]
    entries += [entry(i, "GET", poll, operation_id="fetchMessage", message_id=JOB) for i in (2, 3)]
    answers = [Answer("GET", poll, 200, body={"status": "FAIL", "progress": 3}) for _ in range(2)]
    result = judge("fail", finished(0), exchanges_from(entries, answers), VerifyOptions())
    assert (result.requests, result.polls) == (3, 2)
    assert [v.check for v in result.violations] == ["poll-after-terminal", "exit-code"]
    skipped = judge(
        "fail",
        finished(0),
        exchanges_from(entries, answers),
        VerifyOptions(skip_checks=("poll-after-terminal", "exit-code")),
    )
    assert skipped.passed


# --- the client process --------------------------------------------------------------------------------------


def test_a_client_that_runs_over_is_killed_with_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    # The grandchild ignores SIGTERM, so only the SIGKILL to the whole group ends it.
    child = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    script = (
        "import subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {child!r}])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    started = time.monotonic()
    run = run_client([sys.executable, "-c", script], dict(os.environ), timeout=1.5)
    assert run.killed
    assert run.exit_code is None
    assert time.monotonic() - started < 10
    assert "started" in run.stdout
    assert _gone(int(pid_file.read_text()), within=5.0)


def _gone(pid: int, within: float) -> bool:
    # Gone, or a zombie nobody reaps (PID 1 in a container may not): either way it no longer runs.
    # A killed process takes a moment to die, hence the bounded wait.
    stat = Path(f"/proc/{pid}/stat")
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if stat.read_text().split(") ", 1)[1].startswith("Z"):
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_a_missing_command_is_a_verify_error() -> None:
    with pytest.raises(VerifyError, match="Cannot run"):
        run_client(["/nonexistent/flux-client"], {}, timeout=5)


def test_an_unknown_scenario_stops_verify_before_any_run() -> None:
    with pytest.raises(VerifyError, match=r"unknown scenario or preset 'fial'.*Did you mean 'fail'"):
        verify_client(["false"], VerifyOptions(scenarios=("success", "fial")))


def test_mock_settings_carry_the_run_options() -> None:
    settings = mock_settings("success", VerifyOptions(job_seconds=1.5, seed=4, api_key="sk-x"))
    assert (settings.job_seconds, settings.seed, settings.api_keys) == (1.5, 4, ("sk-x",))


# --- real clients against a real mock -----------------------------------------------------------------------

FAST_CLIENT = {
    "FLUX_CLIENT_POLL_INTERVAL": "0.2",
    "FLUX_CLIENT_BACKOFF": "0.2",
    "FLUX_CLIENT_MAX_WAIT": "2",
    "FLUX_CLIENT_RETRIES": "3",
}
FAST_RULES = ClientRules(min_poll_interval=0.1, min_backoff=0.1, documented=contract_routes())

# (client script, scenario, the checks of which one must fire; empty: it must pass)
# The example client's own runs are the resilience preset below (success, fail, timeout, stall, flaky, 429, 503,
# disconnect, garbage); here, the mutants.
CASES: list[tuple[Path, str, tuple[str, ...]]] = [
    (MUTANTS / "tight_loop.py", "success", ("poll-rate", "poll-interval")),
    (MUTANTS / "ignores_fail.py", "fail", ("poll-after-terminal",)),
    (MUTANTS / "ignores_retry_after.py", "reject:429", ("retry-after",)),
    (MUTANTS / "sends_n5.py", "success", ("request-schema",)),
    (MUTANTS / "wrong_field.py", "success", ("job-never-polled",)),
]


def _verify_one(script: Path, scenario: str) -> VerifyReport:
    options = VerifyOptions(scenarios=(scenario,), job_seconds=0.6, timeout=20, rules=FAST_RULES, env=FAST_CLIENT)
    if script.name == "tight_loop.py":
        # Unthrottled and with a job long enough to show more than 10 polls in a second even on a busy
        # machine; the 0.5 s courtesy interval catches the loop too if the machine is slower still.
        options = dataclasses.replace(
            options, job_seconds=1.5, rate_limit="off", rules=dataclasses.replace(FAST_RULES, min_poll_interval=0.5)
        )
    return verify_client([sys.executable, str(script)], options)


RESILIENT = (EXAMPLE, MUTANTS / "no_backoff.py")


@pytest.fixture(scope="module")
def reports() -> dict[tuple[str, str], VerifyReport]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {(s.name, sc): pool.submit(_verify_one, s, sc) for s, sc, _ in CASES}
        futures |= {(s.name, "resilience"): pool.submit(_verify_one, s, "resilience") for s in RESILIENT}
        return {key: future.result() for key, future in futures.items()}


def test_the_example_client_passes_the_resilience_preset(reports: dict[tuple[str, str], VerifyReport]) -> None:
    report = reports[("client.py", "resilience")]
    assert [r.scenario for r in report.results] == list(PRESETS["resilience"])
    assert report.passed, format_report(report)
    assert not any(r.run.killed for r in report.results)
    # every run is bounded well below the per-scenario timeout: nothing waits for a job's 900 s
    assert max(r.run.duration for r in report.results) < 15, format_report(report)


def test_a_client_that_retries_at_once_fails_resilience_but_passes_the_default(
    reports: dict[tuple[str, str], VerifyReport],
) -> None:
    report = reports[("no_backoff.py", "resilience")]
    by_scenario = {r.scenario: {v.check for v in r.violations} for r in report.results}
    assert all(not by_scenario[s] for s in DEFAULT_SCENARIOS), format_report(report)
    for scenario in ("reject:503", "disconnect", "flaky:2"):
        assert "backoff" in by_scenario[scenario], format_report(report)
    [violation, *_] = [v for r in report.results if r.scenario == "reject:503" for v in r.violations]
    assert "after a 503" in violation.message
    assert "back off" in violation.message


def test_presets_expand_in_order_once() -> None:
    assert expand_scenarios(["success", "resilience"])[:4] == ("success", "fail", "timeout", "stall")
    assert len(expand_scenarios(["resilience", "resilience"])) == len(PRESETS["resilience"])
    assert expand_scenarios(["default"]) == DEFAULT_SCENARIOS == VerifyOptions().scenarios


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_scenario_is_one_the_mock_accepts(preset: str) -> None:
    for scenario in PRESETS[preset]:
        mock_settings(scenario, VerifyOptions())  # raises VerifyError for an unknown or malformed one


def test_all_covers_every_registered_scenario_a_client_must_survive() -> None:
    from mock_server.domain.scenarios.registry import REGISTRY

    must_survive = {name for name in REGISTRY if VerifyOptions().expectation(name) != "any"}
    assert must_survive <= {s.partition(":")[0] for s in PRESETS["all"]}
    assert set(PRESETS["resilience"]) <= set(PRESETS["all"])


@pytest.mark.parametrize(
    ("script", "scenario", "checks"),
    [pytest.param(s, sc, checks, id=f"{s.stem}-{sc}") for s, sc, checks in CASES],
)
def test_clients_against_the_mock(
    reports: dict[tuple[str, str], VerifyReport], script: Path, scenario: str, checks: tuple[str, ...]
) -> None:
    report = reports[(script.name, scenario)]
    [result] = report.results
    found = {v.check for v in result.violations}
    if not checks:
        assert found == set(), format_report(report)
        assert not result.run.killed
    else:
        assert found & set(checks), format_report(report)


def test_the_well_behaved_client_downloads_the_image(reports: dict[tuple[str, str], VerifyReport]) -> None:
    [result, *_] = reports[("client.py", "resilience")].results
    assert result.run.exit_code == 0
    assert "bytes" in result.run.stdout
    assert result.polls >= 2


# --- the command ---------------------------------------------------------------------------------------------


def test_verify_command_passes_the_example_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in FAST_CLIENT.items():
        monkeypatch.setenv(name, value)
    junit = tmp_path / "verify.xml"
    args = [
        "--scenarios",
        "success",
        "--job-seconds",
        "0.5",
        "--min-poll-interval",
        "0.1",
        "--junit",
        str(junit),
        "--",
        sys.executable,
        str(EXAMPLE),
    ]
    result = CliRunner().invoke(verify, args)
    assert result.exit_code == 0, result.output
    assert "1 of 1 scenario(s) passed; 0 violation(s)." in result.output
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "0"  # type: ignore[union-attr]


def test_verify_command_exits_1_and_names_the_violation() -> None:
    args = ["--scenarios", "success", "--job-seconds", "0.5", "--", sys.executable, str(MUTANTS / "sends_n5.py")]
    result = CliRunner().invoke(verify, args)
    assert result.exit_code == 1
    assert "[request-schema] POST /api/v1/flux/imagine" in result.output
    assert "n must not be greater than 4" in result.output
    assert "[exit-code] the client exited 3" in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "Missing argument"),
        (["--expect", "fail", "--", "true"], "SCENARIO=RULE"),
        (["--expect", "fail=maybe", "--", "true"], "zero, nonzero, failure, any"),
        (["--skip-check", "poll-rat", "--", "true"], "'poll-rat' is not a check. Did you mean 'poll-rate'?"),
        (["--failure-pattern", "(", "--", "true"], "not a regular expression"),
    ],
)
def test_verify_command_usage_errors(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(verify, args)
    assert result.exit_code == 2
    assert needle in result.output


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("--timeout=0", "--timeout has value 0.0; it must be greater than 0"),
        ("--max-unchanged-polls=0", "--max-unchanged-polls has value 0; it must be at least 1"),
        ("--min-backoff=-1", "--min-backoff has value -1.0; it must be at least 0"),
    ],
)
def test_verify_command_rejects_out_of_range_limits(bad: str, needle: str) -> None:
    result = CliRunner().invoke(verify, [bad, "--", "true"])
    assert result.exit_code == 2
    assert needle in result.output


def test_verify_command_names_an_unknown_scenario_before_running_anything() -> None:
    result = CliRunner().invoke(verify, ["--scenarios", "success,fial", "--", "/nonexistent/client"])
    assert result.exit_code == 2  # a usage error, distinct from "the client broke the contract" (1)
    assert "--scenarios: unknown scenario or preset 'fial'. Did you mean 'fail'?" in result.output


def test_a_misspelt_preset_gets_a_did_you_mean_and_the_list_names_the_presets() -> None:
    result = CliRunner().invoke(verify, ["--scenarios", "resillience", "--", "/nonexistent/client"])
    assert result.exit_code == 2
    assert "unknown scenario or preset 'resillience'. Did you mean 'resilience'?" in result.output
    assert "presets: default, resilience, all" in " ".join(result.output.split())


def test_exported_admin_variable_does_not_collide_with_settings() -> None:
    # A client under verify may itself build Settings.from_env(); an unknown FLUX_MOCK_* variable would stop it.
    from contracts.verify.run import client_env
    from mock_server import Settings

    env = client_env("http://127.0.0.1:1", "sk-x")
    assert env["IMAGINEPRO_MOCK_ADMIN_URL"] == "http://127.0.0.1:1/__mock"
    assert Settings.from_env(env).port == Settings().port


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--expect", "nosuch=zero", "--", "true"], "'nosuch' is not one of the scenarios run"),
        (["--junit", "/etc/passwd/x.xml", "--", "true"], "cannot write /etc/passwd/x.xml"),
    ],
)
def test_usage_errors_exit_2_before_any_run(args: list[str], needle: str) -> None:
    from contracts.commands.verify import verify

    result = CliRunner().invoke(verify, args)
    assert result.exit_code == 2, result.output
    assert needle in result.output
