"""`flux-mock check`: passes against the mock, fails against every mutant, stays within the job budget.

Mutants run in-process on a `VirtualClock` (polling advances the clock, nothing sleeps); the CLI
tests use real loopback sockets with sub-second jobs.
"""

from __future__ import annotations

import dataclasses
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from mutants import ACTION_MUTANTS, API_KEY, MUTANTS, Call, Mutant, Rewrite, faithful

from contracts import CheckOptions, CheckReport, VirtualTimer, run_check
from contracts.core.reporting import render_summary
from contracts.core.schema import contract
from mock_server import Settings, SystemClock, VirtualClock, create_app
from mock_server.run.cli import main
from mock_server.run.server import LiveServer

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


@pytest.mark.slow  # the one whole-spec check (every part, every operation): ~45 s of CPU
def test_check_passes_against_the_mock_with_every_part() -> None:
    from contracts.checks import SHAPES
    from contracts.core.schema import contract

    clock = VirtualClock(start=1_750_000_000.0)
    app = faithful(clock, job_seconds=3)
    report = check(app, clock)
    assert report.ok, render_summary(report)
    names = {o.name for o in report.outcomes}
    assert {"job imagine n=2", "job imagine defaults", "job upscale x2", "stateful: Stateful tests"} <= names
    assert {"fetchMessage unknown messageId -> 404", "rejects fluxImagine width.multipleOf"} <= names
    assert {
        "rejects mjBlend urls.maxItems",
        "rejects videoExtend index.maximum",
        "rejects promptCheck prompt.pattern",
    } <= (names)
    # One lifecycle job per job kind with a create operation; every kind's DONE shape is known to the checks.
    kinds = {op.job_kind for op in contract().by_role("create")}
    assert kinds <= set(SHAPES)
    jobs = {o.name.removeprefix("job "): o for o in report.outcomes if o.name.startswith("job ")}
    assert kinds - {"imagine", "upscale"} <= set(jobs)
    for name, outcome in jobs.items():
        if name == "command":  # a DIY-plan endpoint: this mock's plan is STARTER
            assert outcome.status == "skipped"
            assert "needs another plan: the server answered 403" in outcome.detail
        else:
            assert outcome.status == "passed", (name, outcome.detail)
            assert outcome.detail.startswith("DONE"), (name, outcome.detail)
    passed = {o.name for o in report.outcomes if o.status == "passed"}
    assert {
        "credits match charges",
        "button on a message that is not DONE -> 409",
        "button the message does not offer -> 409",
    } <= passed
    assert set(report.costs) >= {"lifecycle", "probes", "schemathesis/coverage", "schemathesis/stateful"}
    # Besides one job per kind: every button pressed at each stage, the other extends, and the job cancelled.
    pressed = [o for o in report.outcomes if o.name.startswith(("press ", "video extend of result "))]
    assert {"press V1 on the grid", "press Vary (Region) on the upscale", "video extend of result 3"} <= {
        o.name for o in pressed
    }
    assert all(o.status == "passed" for o in pressed)
    assert {
        "Cancel Job on a running job",
        "Cancel Job on a DONE job -> 409",
        "Vary (Region) without a mask -> 400",
    } <= (passed)
    assert "history lists every job made, newest first" in passed
    assert report.costs["lifecycle"].jobs == len(jobs) - 1 + len(pressed) + 1
    assert report.costs["probes"].jobs == 0
    assert jobs_in(app) == sum(cost.jobs for cost in report.costs.values())


def test_the_default_remote_budget_covers_flux_first() -> None:
    # 5 jobs on a non-loopback URL: the three Flux jobs, then the other kinds only while 2 stay for the probes.
    clock = VirtualClock(start=1_750_000_000.0)
    app = faithful(clock)
    report = check(app, clock, base_url="https://flux.example.test", phases=frozenset({"lifecycle"}), webhooks=False)
    assert report.ok, render_summary(report)
    status = {o.name: o.status for o in report.outcomes if o.name.startswith("job ")}
    assert [n for n, s in status.items() if s == "passed"] == [
        "job imagine n=2",
        "job imagine defaults",
        "job upscale x2",
    ]
    assert all(
        s == "skipped"
        for n, s in status.items()
        if n not in ("job imagine n=2", "job imagine defaults", "job upscale x2")
    )
    assert jobs_in(app) == 3


def test_a_tight_budget_goes_to_flux_even_when_follow_ups_come_late() -> None:
    # The upscale needs job 1 DONE, yet it is claimed before the other kinds: priorities, not arrival order.
    clock = VirtualClock(start=1_750_000_000.0)
    app = faithful(clock)
    report = check(app, clock, max_jobs=3, phases=frozenset({"lifecycle"}), webhooks=False)
    done = {o.name for o in report.outcomes if o.name.startswith("job ") and o.status == "passed"}
    assert done == {"job imagine n=2", "job imagine defaults", "job upscale x2"}
    assert "3 job(s) created (max 3)" in report.budget


KILLS: dict[str, set[str]] = {}
ALL_MUTANTS = [*MUTANTS, *ACTION_MUTANTS]


def _kill(mutant: Mutant) -> set[str]:
    if mutant.name not in KILLS:
        clock = VirtualClock(start=1_750_000_000.0)
        report = check(mutant.build(clock), clock, phases=KILL_PHASES)
        assert not report.ok
        KILLS[mutant.name] = {f.check for f in report.failures}
    return KILLS[mutant.name]


# schemathesis' own checks that may fire besides the kit's named CHECKS.
SCHEMATHESIS_CHECKS = frozenset(
    {
        "negative_data_rejection",
        "ignored_auth",
        "missing_required_header",
        "response_schema_conformance",
        "positive_data_acceptance",
    }
)


@pytest.mark.parametrize("mutant", ALL_MUTANTS, ids=[m.name for m in ALL_MUTANTS])
def test_every_mutant_is_killed_by_the_expected_check(mutant: Mutant) -> None:
    # One run per mutant (the kill matrix is the suite's costliest part: never run it twice). Every mutant killed
    # is the kill rate of 100%; every check that fires is one the kit documents (CHECKS) or schemathesis' own.
    from contracts.checks import CHECKS

    fired = _kill(mutant)
    assert fired & mutant.expected, f"{mutant.name} ({mutant.bug}) was caught only by {sorted(fired)}"
    assert fired - SCHEMATHESIS_CHECKS <= set(CHECKS), f"{mutant.name}: undocumented {fired - set(CHECKS)}"


def test_the_summary_says_which_actions_were_pressed_and_which_not() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    report = check(faithful(clock), clock, phases=frozenset({"lifecycle"}))
    assert report.ok, render_summary(report)
    [note] = [n for n in report.notes if n.startswith("actions pressed: ")]
    pressed, _, skipped = note.partition("; not pressed: ")
    for action in ("U1", "V4", "\U0001f504", "Zoom Out 1.5x", "Vary (Region)", "Cancel Job", "extend 3"):
        assert action in pressed
    assert "Make Square (no message of this run offered it)" in skipped
    assert note in render_summary(report)


def test_a_tight_budget_says_which_actions_it_held_back() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    report = check(faithful(clock), clock, max_jobs=12, phases=frozenset({"lifecycle"}), webhooks=False)
    [note] = [n for n in report.notes if n.startswith("actions pressed: ")]
    assert "held back by the --max-jobs budget" in note or "no message of this run offered it" in note


def test_the_kill_matrix_is_big_enough_and_named_once() -> None:
    names = [m.name for m in ALL_MUTANTS]
    assert len(names) == len(set(names)) >= 30


def test_the_mutant_set_covers_the_issues_list() -> None:
    names = {m.name for m in ALL_MUTANTS}
    assert {
        "accepts-n-5",
        "accepts-width-1001",
        "progress-backwards",
        "uri-not-first-image",
        "express-error-shape",
        "done-without-images",
        "500-on-valid-body",
        # the whole API's rules
        "grid-without-buttons",
        "button-on-unfinished-accepted",
        "describe-without-content",
        "video-without-results",
        "upscale-without-origin",
        "credits-not-charged",
        # every documented action and its effects
        "cancel-ignored",
        "cancel-resets-progress",
        "cancel-after-end-accepted",
        "vary-region-without-mask",
        "offered-button-refused",
        "variation-makes-upscale",
        "origin-not-the-pressed-message",
        "extend-only-result-0",
        "history-oldest-first",
        "history-without-buttons",
        "cutout-without-alpha",
    } <= names


FLUX_FLOW = frozenset({"fluxImagine", "fetchMessage", "fetchMessageLegacy"})


@pytest.mark.parametrize(
    ("name", "caught_by"),
    [
        ("accepts-n-5", "negative_data_rejection"),
        ("express-error-shape", "response_schema_conformance"),
        ("uri-not-first-image", "done_has_images"),  # the kit's check on stateful fetches
    ],
)
def test_schemathesis_alone_catches(name: str, caught_by: str) -> None:
    # Each mutant breaks Flux imagine or its polls, so schemathesis covers that flow only (the whole spec costs
    # ~20x the time and memory and proves nothing more here; test_check_passes_against_the_mock_with_every_part
    # runs it in full).
    mutant = next(m for m in MUTANTS if m.name == name)
    fired: set[str] = set()
    # Whether a stateful run chains a create to a fetch of its DONE job depends on the seed: up to three seeded
    # runs, each judged in full.
    for seed in (3, 4, 5):
        clock = VirtualClock(start=1_750_000_000.0)
        # Instant jobs, so the stateful phase polls DONE jobs without the clock moving.
        report = check(
            mutant.build(clock, job_seconds=0),
            clock,
            phases=frozenset({"coverage", "stateful"}),
            max_examples=10,
            seed=seed,
            operations=FLUX_FLOW,
        )
        assert all(f.source in ("coverage", "stateful") and f.curl for f in report.failures)
        fired |= {f.check for f in report.failures}
        if caught_by in fired:
            break
    assert caught_by in fired


def test_auth_failures_reproduce_with_the_bad_credentials() -> None:
    mutant = next(m for m in MUTANTS if m.name == "accepts-any-key")
    clock = VirtualClock(start=1_750_000_000.0)
    report = check(mutant.build(clock, job_seconds=0), clock, phases=frozenset({"examples"}))
    [failure, *_] = [f for f in report.failures if f.check == "ignored_auth"]
    assert failure.curl is not None
    # never the real key placeholder: the request that got in had no valid credentials
    assert "$IMAGINEPRO_API_KEY" not in failure.curl.splitlines()[-1]
    assert "deliberately invalid or missing credentials" in " ".join(failure.notes)


def test_generated_webhook_urls_point_at_the_sink_and_invalid_ones_stay() -> None:
    sent: list[Any] = []

    def spy(call: Call, body: Any) -> Any:
        if call.is_create and isinstance(body, dict) and "webhookOverride" in body:
            sent.append(body["webhookOverride"])
        return body

    clock = VirtualClock(start=1_750_000_000.0)
    report = check(
        Rewrite(faithful(clock), request=spy),
        clock,
        phases=frozenset({"examples", "coverage"}),
        operations=frozenset({"fluxImagine", "mjImagine"}),  # two of the creates that take a webhookOverride
    )
    assert report.ok, render_summary(report)
    urls = [u for u in sent if isinstance(u, str) and u.startswith(("http://", "https://"))]
    assert "http://127.0.0.1:9/flux-mock-check" in urls
    assert not any("0.com" in u for u in urls)  # the spec's example host never goes out
    assert any(u is not None and not str(u).startswith("http") for u in sent)  # invalid values are still sent


def test_a_remote_url_gets_a_small_budget_and_no_positive_fuzzing() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    app = faithful(clock)
    report = check(
        app,
        clock,
        base_url="https://flux.example.test",
        phases=frozenset({"lifecycle", "coverage", "stateful", "examples"}),
        operations=FLUX_FLOW,
    )
    assert report.ok, render_summary(report)
    assert jobs_in(app) == 3
    assert "invalid bodies only and skips its stateful phase" in " ".join(report.notes)
    assert not any(o.name.startswith("stateful") for o in report.outcomes)
    assert report.costs["schemathesis/coverage"].requests > 100  # the invalid bodies still go out
    assert "3 job(s) created (max 5)" in report.budget


def test_the_budget_holds_against_a_server_that_accepts_invalid_bodies() -> None:
    accepts_everything = Mutant(
        "accepts-everything",
        "every POST is answered 200 by a fresh valid job",
        frozenset(),
        request=lambda call, body: {"prompt": "x"} if call.is_create and "image" not in str(body) else body,
    )
    clock = VirtualClock(start=1_750_000_000.0)
    app = accepts_everything.build(clock)
    report = check(app, clock, max_jobs=2, phases=frozenset({"probes", "coverage", "fuzzing"}), operations=FLUX_FLOW)
    assert jobs_in(app) == 2
    assert "2 job(s) created (max 2)" in report.budget
    assert "held back" in report.budget
    assert any(o.status == "skipped" and "budget" in o.detail for o in report.outcomes)
    assert not report.ok  # the two accepted invalid bodies are failures


def test_max_jobs_zero_sends_no_job_creating_request() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    app = faithful(clock)
    report = check(app, clock, max_jobs=0, phases=frozenset({"lifecycle", "probes", "examples"}))
    assert jobs_in(app) == 0
    assert report.ok
    creating = {op.operation_id for op in contract().by_role("create")}
    assert all(o.status == "skipped" for o in report.outcomes if o.name.startswith("job "))
    for outcome in report.outcomes:
        if outcome.name.startswith("rejects ") and outcome.name.split(" ")[1] in creating:
            assert outcome.status == "skipped", outcome.name
            assert "budget" in outcome.detail, outcome.name
    # bodies to answered-at-once operations create no job: their probes still run
    assert any(o.status == "passed" for o in report.outcomes if o.name.startswith("rejects promptCheck"))


class EchoInbox:
    """A stand-in receiver: the server 'delivers' the final GET body it serves (optionally altered)."""

    url = "http://127.0.0.1:9/hook"

    def __init__(self) -> None:
        self.sent: dict[str, list[Any]] = {}

    def payloads_for(self, message_id: str) -> list[Any]:
        return self.sent.get(message_id, [])


def _delivering(inbox: EchoInbox, change: dict[str, Any]) -> Any:
    def record(call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.is_fetch and status == 200 and body.get("status") in ("DONE", "FAIL") and "ref" in body:
            inbox.sent.setdefault(body["messageId"], []).append({**body, **change})
        return status, body

    return record


@pytest.mark.parametrize(("change", "failing"), [({}, set()), ({"progress": 99}, {"webhook_matches_final"})])
def test_webhook_payload_must_equal_the_final_get(change: dict[str, Any], failing: set[str]) -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    inbox = EchoInbox()
    app = Rewrite(faithful(clock), response=_delivering(inbox, change))
    report = run_check(
        CheckOptions(LOCAL, token=API_KEY, seed=3, poll_interval=0.5, phases=frozenset({"lifecycle"})),
        app=app,
        timer=VirtualTimer(clock),
        inbox=inbox,
    )
    assert {f.check for f in report.failures} == failing
    assert inbox.sent, "job 1 carries the ref and the webhookOverride"


def test_a_webhook_that_never_arrives_is_a_failure() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    report = run_check(
        CheckOptions(LOCAL, token=API_KEY, seed=3, poll_interval=0.5, phases=frozenset({"lifecycle"})),
        app=faithful(clock),
        timer=VirtualTimer(clock),
        inbox=EchoInbox(),
    )
    assert {f.check for f in report.failures} == {"webhook_delivered"}


def live_lifecycle(**settings: Any) -> CheckReport:
    with LiveServer(settings=Settings(job_seconds=0.5, api_keys=(API_KEY,), **settings)) as server:
        options = CheckOptions(
            server.url, token=API_KEY, seed=4, poll_interval=0.2, webhook_wait=2.0, phases=frozenset({"lifecycle"})
        )
        return run_check(options)


def test_webhooks_through_the_real_receiver_match_the_final_get() -> None:
    report = live_lifecycle()
    assert report.ok, render_summary(report)
    [job] = [o for o in report.outcomes if o.name == "job imagine n=2"]
    assert job.detail.endswith("webhook == final GET")
    assert not any("webhooks not exercised" in note for note in report.notes)


@pytest.mark.parametrize(
    ("fault", "caught_by"),
    [("drop", "webhook_delivered"), ("corrupt", "webhook_matches_final"), ("out-of-order", "webhook_matches_final")],
)
def test_webhook_faults_are_caught(fault: str, caught_by: str) -> None:
    report = live_lifecycle(webhook_fault=fault)
    assert caught_by in {f.check for f in report.failures}, render_summary(report)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_url": "ftp://x"}, "must start with http"),
        ({"base_url": "https://api.imaginepro.ai"}, "not loopback: pass the API key"),
        ({"base_url": LOCAL, "phases": frozenset({"fuzz"})}, "unknown phase"),
        ({"base_url": LOCAL, "job_timeout": 5}, "from 10 to 900"),
        ({"base_url": LOCAL, "max_jobs": -1}, "0 or more"),
    ],
)
def test_options_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CheckOptions(**options)


def test_default_budget_depends_on_loopback() -> None:
    assert CheckOptions(LOCAL).job_limit is None
    assert CheckOptions("https://api.imaginepro.ai", token="sk").job_limit == 5
    assert CheckOptions("https://api.imaginepro.ai", token="sk", max_jobs=50).job_limit == 50


CLI_PHASES = "lifecycle,probes,examples"


def test_cli_passes_against_a_live_mock_and_writes_junit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis import configuration

    homes: list[Any] = []
    original = configuration.set_hypothesis_home_dir

    def spy(directory: Any) -> None:
        homes.append(directory and Path(directory).name)
        original(directory)

    monkeypatch.setattr(configuration, "set_hypothesis_home_dir", spy)
    monkeypatch.chdir(tmp_path)
    junit = tmp_path / "check.xml"
    settings = Settings(job_seconds=0.6, api_keys=(API_KEY,))
    with LiveServer(settings=settings) as server:
        started = time.monotonic()
        result = CliRunner().invoke(
            main,
            [
                "check",
                "--base-url",
                server.url,
                "--token",
                API_KEY,
                "--seed",
                "5",
                "--phases",
                CLI_PHASES,
                "--max-examples",
                "3",
                "--poll-interval",
                "0.2",
                "--junit",
                str(junit),
            ],
        )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60
    assert f"flux-mock check {server.url}  (seed 5)" in result.output
    assert "PASSED" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["check.xml"]  # no .schemathesis/ or reports left
    assert homes[0].startswith("flux-mock-check-")  # Hypothesis' storage went to a temporary folder
    assert homes[-1] is None
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0"
    assert int(root.get("tests", "0")) > 40


def test_cli_fails_against_a_broken_live_server_with_a_reproduction() -> None:
    mutant = next(m for m in MUTANTS if m.name == "uri-not-first-image")
    app = mutant.build(SystemClock())
    server = LiveServer(app)
    app.app = mutant.build(SystemClock(), job_seconds=0.3, public_url=server.url).app  # image URLs on this port
    with server:
        result = CliRunner().invoke(
            main,
            [
                "check",
                "--base-url",
                server.url,
                "--token",
                API_KEY,
                "--seed",
                "5",
                "--phases",
                "lifecycle",
                "--poll-interval",
                "0.1",
                "--no-webhooks",  # the mutants record webhooks instead of sending them
            ],
        )
    assert result.exit_code == 1
    assert "[done_has_images]" in result.output
    assert "uri must be the first image" in result.output
    assert f"curl -sS -X POST {server.url}/api/v1/flux/imagine" in result.output
    assert '"Authorization: Bearer $IMAGINEPRO_API_KEY"' in result.output
    assert API_KEY not in result.output
    assert "reproduce (seed 5):" in result.output
    # the only bug is the one the mutant has (in every job whose result is images)
    assert re.search(r"\b\d+ failure\(s\), 1 distinct:", result.output), result.output


def test_cli_reports_an_unreachable_server_once() -> None:
    with LiveServer(create_app(Settings())) as server:
        url = server.url  # a loopback port that was just closed
    result = CliRunner().invoke(main, ["check", "--base-url", url, "--request-timeout", "2"])
    assert result.exit_code == 1
    assert result.output.count("ERR ") == 1
    assert "cannot reach the server: ConnectError" in result.output
    assert "FAILED: 0 passed, 0 failed, 1 errors" in result.output


def test_cli_refuses_a_remote_url_without_a_token() -> None:
    result = CliRunner().invoke(
        main, ["check", "--base-url", "https://api.imaginepro.ai"], env={"IMAGINEPRO_API_KEY": ""}
    )
    assert result.exit_code == 2
    assert "pass the API key with --token" in result.output


def test_cli_is_offered_by_flux_mock() -> None:
    result = CliRunner().invoke(main, ["check", "--help"])
    assert result.exit_code == 0
    assert "--max-jobs" in result.output
    assert "--junit" in result.output


def test_in_process_mock_with_real_settings_keeps_its_clock() -> None:
    # the engine never touches a server's clock by itself: only the VirtualTimer given to it does
    clock = VirtualClock(start=1_750_000_000.0)
    app = create_app(Settings(job_seconds=3, api_keys=(API_KEY,)), clock=clock)
    check(app, clock, phases=frozenset({"examples"}))
    assert clock.now() == 1_750_000_000.0


def test_bad_rate_limit_is_refused_before_anything_is_sent() -> None:
    from click.testing import CliRunner

    from contracts.commands.check import check

    result = CliRunner().invoke(check, ["--base-url", "http://127.0.0.1:9", "--rate-limit", "abc"])
    assert result.exit_code == 2
    assert "must look like 10/s" in result.output


def test_a_status_outside_the_enum_fails_at_once_without_waiting_for_the_timeout() -> None:
    # Real time, a live server and the default 120 s job timeout: the verdict must come from the first answer.
    mutant = next(m for m in MUTANTS if m.name == "status-outside-enum")
    app = mutant.build(SystemClock(), job_seconds=3)
    options = CheckOptions(LOCAL, token=API_KEY, seed=3, phases=frozenset({"lifecycle"}), poll_interval=0.5)
    assert options.job_timeout == 120
    with LiveServer(app) as server:
        started = time.monotonic()
        report = run_check(dataclasses.replace(options, base_url=server.url, webhooks=False))
        elapsed = time.monotonic() - started
    assert elapsed < 30, render_summary(report)
    broken = [f for f in report.failures if f.check == "matches_schema"]
    assert broken, render_summary(report)
    assert (broken[0].pointer, broken[0].actual) == ("/status", "processing")
    assert "is not one of" in broken[0].message
    assert any("polling of job" in note for note in broken[0].notes)
    assert "finishes_within_timeout" not in {f.check for f in report.failures}
    first = next(o for o in report.outcomes if o.name == "job imagine n=2")
    assert first.detail.startswith("polling stopped after 1 poll(s)"), first.detail


def test_every_path_is_fetched_back_to_back_on_every_poll() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    app = faithful(clock, job_seconds=3)
    rounds: dict[tuple[float, str], list[str]] = {}  # (mock time, job) -> the paths fetched then, in order

    def spy(call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.is_fetch and status != 404:  # not the preflight's poll of an unknown job (the diagnosis)
            job = call.path.rsplit("/", 1)[-1]
            path = "video" if "/video/" in call.path else "legacy" if call.is_legacy else "current"
            rounds.setdefault((clock.now(), job), []).append(path)
        return status, body

    report = check(Rewrite(app, response=spy), clock, phases=frozenset({"lifecycle"}), webhooks=False)
    assert report.ok, render_summary(report)
    assert len(rounds) > 6
    # The grid is also fetched just before and after the early button press, at its creation instant.
    [grid] = [o.detail.rsplit(" ", 1)[-1] for o in report.outcomes if o.name == "job mj-imagine"]
    first = min(key for key in rounds if key[1] == grid)
    for _ in range(2):
        rounds[first].remove("current")
    # Every poll fetches each of the job's paths once at the same instant, in rotating order (the final fetch adds
    # one more round); video jobs have their own path as well.
    for paths in rounds.values():
        kinds = sorted(set(paths))
        assert kinds in (["current", "legacy"], ["current", "legacy", "video"]), paths
        assert sorted(paths) in (sorted(kinds), sorted(kinds * 2)), paths
    assert {tuple(paths[:2]) for paths in rounds.values() if len(set(paths)) == 2} == {
        ("current", "legacy"),
        ("legacy", "current"),
    }
    assert any("video" in paths for paths in rounds.values())


# --- any-key mode ----------------------------------------------------------------------------------------------


def any_key_app(clock: VirtualClock) -> Any:
    """flux-mock as `flux-mock serve` starts it without --api-key: any non-empty key is accepted."""
    from mutants import dry_webhooks

    return create_app(Settings(job_seconds=3, seed=7, **dry_webhooks()), clock=clock)


@pytest.mark.parametrize(
    ("health", "any_key"),
    [
        ({"status": "ok", "auth": {"anyKey": True, "keys": 0, "setting": "--api-key KEY"}}, True),
        ({"status": "ok", "auth": {"anyKey": False, "keys": 1}}, False),
        ({"status": "ok"}, False),  # an older mock, or another server
        ({"auth": {"anyKey": "true"}}, False),  # not that shape: behave as for any server
        ([], False),
        (None, False),
    ],
)
def test_any_key_mode_is_read_from_the_health_answer_only_in_its_exact_shape(health: Any, any_key: bool) -> None:
    from contracts.check.auth_mode import any_key_mode

    assert (any_key_mode(health) is not None) is any_key


def _unrelated_skip(detail: str) -> bool:
    """The skips every run against a default mock has, whatever its keys: none is about credentials."""
    return any(
        reason in detail
        for reason in (
            "needs another plan: the server answered 403",  # the DIY endpoints on a STARTER plan
            "the balance is unlimited",  # credits match charges
            "No examples in schema",  # schemathesis' examples phase, for operations without examples
        )
    )


def test_any_key_mock_passes_with_wrong_key_checks_skipped() -> None:
    from contracts.core.reporting import junit_xml

    clock = VirtualClock(start=1_750_000_000.0)
    report = check(any_key_app(clock), clock, phases=KILL_PHASES, token="sk-test")
    assert report.ok, render_summary(report)
    skipped = {o.name: o.detail for o in report.outcomes if o.status == "skipped" and "wrong key" in o.name}
    assert set(skipped) == {"fluxImagine with a wrong key -> 401", "auth: ignored_auth with a wrong key"}
    assert all(_unrelated_skip(o.detail) for o in report.outcomes if o.status == "skipped" and o.name not in skipped)
    for reason in skipped.values():
        assert "auth.anyKey is true" in reason
        assert "flux-mock serve --api-key sk-test" in reason
    # schemathesis did send wrong keys and the mock accepted them: those findings were waived, not missed
    assert "wrong-key answer(s) not judged" in skipped["auth: ignored_auth with a wrong key"]
    # a request without credentials is still checked, and passes
    passed = {o.name for o in report.outcomes if o.status == "passed"}
    assert "fluxImagine without credentials -> 401" in passed
    summary = render_summary(report)
    assert "skip fluxImagine with a wrong key -> 401" in summary
    assert "PASSED:" in summary
    cases = {c.get("name"): c for c in junit_xml(report).iter("testcase")}
    node = cases["fluxImagine with a wrong key -> 401"].find("skipped")
    assert node is not None
    assert "flux-mock serve --api-key sk-test" in node.get("message", "")


def test_with_real_keys_the_wrong_key_probe_runs() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    report = check(faithful(clock), clock, phases=frozenset({"probes"}))
    [probe] = [o for o in report.outcomes if o.name == "fluxImagine with a wrong key -> 401"]
    assert probe.status == "passed"
    assert all(_unrelated_skip(o.detail) for o in report.outcomes if o.status == "skipped")


def test_any_key_mode_still_fails_a_server_that_serves_requests_without_credentials() -> None:
    def add_a_key(call: Call, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        if any(k == b"authorization" for k, _ in headers):
            return headers
        return [*headers, (b"authorization", b"Bearer sk-anything")]

    clock = VirtualClock(start=1_750_000_000.0)
    report = check(Rewrite(any_key_app(clock), headers=add_a_key), clock, phases=KILL_PHASES, token="sk-test")
    assert not report.ok
    [probe] = [o for o in report.outcomes if o.name == "fluxImagine without credentials -> 401"]
    assert probe.status == "failed"
    assert "sent no Authorization header" in probe.failures[0].message
    assert "ignored_auth" in {f.check for f in report.failures}  # schemathesis' no-credentials finding is kept


def _quick(app: Any, clock: VirtualClock, **options: Any) -> str:
    # One schemathesis phase on one operation: enough answers to see, seconds to run.
    phases = {"phases": frozenset({"examples"}), "operations": frozenset({"fluxImagine"})}
    return render_summary(check(app, clock, **{**phases, **options}))


def test_a_refused_key_opens_the_summary_with_one_line_naming_the_token() -> None:
    clock = VirtualClock()
    keyed = create_app(Settings(api_keys=(API_KEY,)), clock=clock)
    without = _quick(keyed, clock, token=None).splitlines()
    assert without[1].startswith(
        "diagnosis: the server answered 401 to GET http://127.0.0.1:8080/api/v1/message/fetch/"
    )
    assert "pass --token KEY (env IMAGINEPRO_API_KEY)" in without[1]
    wrong = _quick(keyed, clock, token="sk-wrong").splitlines()
    assert "with the --token given" in wrong[1]
    assert "diagnosis:" not in _quick(keyed, clock)  # the right key: nothing to diagnose


def test_a_server_that_answers_404_on_the_contract_paths_gets_a_diagnosis() -> None:
    from starlette.applications import Starlette

    summary = _quick(Starlette(), VirtualClock()).splitlines()  # serves nothing: every path is a 404
    assert summary[1].startswith("diagnosis: the server answered 404 to GET")
    assert "--base-url must be the API's root" in summary[1]


def test_a_base_url_ending_in_the_api_prefix_is_refused_before_running() -> None:
    with pytest.raises(ValueError, match=r"ends in /api/v1.*drop it, --base-url http://127.0.0.1:8080$"):
        CheckOptions("http://127.0.0.1:8080/api/v1/")
    result = CliRunner().invoke(main, ["check", "--base-url", "http://127.0.0.1:8080/api/v1"])
    assert result.exit_code == 2
    assert "/api/v1/api/v1/" in result.output


def test_no_server_is_one_diagnosis_line() -> None:
    with LiveServer() as server:
        url = server.url
    report = run_check(CheckOptions(url, seed=1))  # the server is gone: nothing listens on its port
    summary = render_summary(report).splitlines()
    assert summary[1].startswith(f"diagnosis: cannot connect to {url}")
    assert "is the server running" in summary[1]
    assert report.exit_code == 1
