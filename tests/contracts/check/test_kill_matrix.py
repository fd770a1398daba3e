"""The kill matrix: every mutant server (`mutants`, `mutant_actions`) is killed by the default `check`, by the
check it names; and what schemathesis alone catches.

Mutants run in-process on a `VirtualClock` (polling advances the clock, nothing sleeps); the CLI tests use real
loopback sockets with sub-second jobs.
"""

from __future__ import annotations

import pytest
from check_runs import FLUX_FLOW, KILL_PHASES, check
from mutants import ACTION_MUTANTS, MUTANTS, Mutant

from mock_server import VirtualClock

KILLS: dict[str, set[str]] = {}


ALL_MUTANTS = [*MUTANTS, *ACTION_MUTANTS]


def _kill(mutant: Mutant) -> set[str]:
    if mutant.name not in KILLS:
        clock = VirtualClock(start=1_750_000_000.0)
        report = check(mutant.build(clock), clock, phases=mutant.phases or KILL_PHASES)
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
        "upscale-2x-makes-grid",
        "make-square-without-origin",
        "extend-only-result-0",
        "history-oldest-first",
        "history-without-buttons",
        "cutout-without-alpha",
        "variation-overcharged",
        "no-queue",
    } <= names


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
