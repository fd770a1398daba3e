"""The `--max-jobs` budget: Flux first, a small one for remote servers, held against servers that accept anything."""

from __future__ import annotations

from check_runs import FLUX_FLOW, LOCAL, check, jobs_in
from mutants import Mutant, faithful

from contracts import CheckOptions
from contracts.core.reporting import render_summary
from contracts.core.schema import contract
from mock_server import VirtualClock


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
    [queue] = [o for o in report.outcomes if o.name.startswith("per-key queue")]
    assert (queue.status, queue.detail) == (
        "skipped",
        "the run created 3 job(s): too few to fill the key's slots and queue one",
    )


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


def test_default_budget_depends_on_loopback() -> None:
    assert CheckOptions(LOCAL).job_limit is None
    assert CheckOptions("https://api.imaginepro.ai", token="sk").job_limit == 5
    assert CheckOptions("https://api.imaginepro.ai", token="sk", max_jobs=50).job_limit == 50
