"""The documented actions `check` presses: the summary names those pressed and why the others were not."""

from __future__ import annotations

from check_runs import check
from mutants import faithful

from contracts.core.reporting import render_summary
from contracts.core.schema import contract
from mock_server import VirtualClock


def test_the_summary_says_which_actions_were_pressed_and_which_not() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    report = check(faithful(clock), clock, phases=frozenset({"lifecycle"}))
    assert report.ok, render_summary(report)
    [note] = [n for n in report.notes if n.startswith("actions pressed: ")]
    pressed, _, skipped = note.partition("; not pressed: ")
    # Every button of the contract's enum is pressed against the faithful mock: Make Square on the 3:2 grid's
    # upscales, the v5 upscalers and their Redo on the --v 5 chain.
    enum = contract().schema("ButtonRequest")["properties"]["button"]["enum"]
    assert {"Make Square", "Upscale (2x)", "Redo Upscale (4x)"} <= set(enum)
    assert pressed.removeprefix("actions pressed: ").split(", ")[: len(enum)] == enum
    assert skipped == ""
    assert "extend 3" in pressed
    assert note in render_summary(report)
    # The effects outside the answers: every create charged its x-credits price (Cancel Job's press too: free), and
    # the per-key queue held.
    outcomes = {o.name: o for o in report.outcomes}
    credits = outcomes["credits match charges"]
    jobs = report.costs["lifecycle"].jobs
    assert credits.status == "passed"
    assert credits.detail == f"{jobs} job(s) made; {jobs + 1} create(s) judged against their x-credits price"
    queue = outcomes["per-key queue: a job waits QUEUED while the key's slots are busy"]
    assert queue.status == "passed"
    assert queue.detail.startswith("job 5 (")


def test_a_tight_budget_says_which_actions_it_held_back() -> None:
    clock = VirtualClock(start=1_750_000_000.0)
    report = check(faithful(clock), clock, max_jobs=12, phases=frozenset({"lifecycle"}), webhooks=False)
    [note] = [n for n in report.notes if n.startswith("actions pressed: ")]
    assert "held back by the --max-jobs budget" in note or "no message of this run offered it" in note
