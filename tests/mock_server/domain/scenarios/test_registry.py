"""The scenario registry: names validated at registration, parsing with clear errors, job timings."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest

from mock_server import ScenarioError, UnknownScenario
from mock_server.domain.jobs import Timing
from mock_server.domain.lifecycle import JobStatus, plan, snapshot
from mock_server.domain.scenarios.registry import (
    FAIL_ERRORS,
    REGISTRY,
    JobContext,
    catalogue,
    job_timing,
    parse,
    parse_list,
    scenario,
    wire_effect,
)

SCENARIOS_PAGE = Path(__file__).resolve().parents[4] / "docs" / "qa" / "scenarios.md"


def ctx(seed: int = 0, timeout: float = 900) -> JobContext:
    return JobContext("imagine", timeout, 1, random.Random(seed))


def timing_of(text: str, *, seed: int = 0, timeout: float = 900, duration: float = 3.0) -> Timing:
    return job_timing(parse_list(text), Timing(duration=duration), ctx(seed, timeout))


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("fail", "fail"),
        (" FAIL:50 ", "fail:50"),
        ("slow:2.5", "slow:2.5"),
        ("slow:30", "slow:30"),
        ("reject:429", "reject:429"),
        ("garbage:html", "garbage:html"),
        ("status-variant", "status-variant"),
        ("not-yet:0.5", "not-yet:0.5"),
    ],
)
def test_parse_gives_canonical_text(text: str, canonical: str) -> None:
    assert parse(text).text == canonical


def test_parse_list_splits_on_commas_and_skips_blanks() -> None:
    assert [s.text for s in parse_list("fail:40, latency:200,,")] == ["fail:40", "latency:200"]
    assert [s.text for s in parse_list(["fail", "flaky:3"])] == ["fail", "flaky:3"]


def test_unknown_name_lists_registered_names_and_suggests_one() -> None:
    with pytest.raises(UnknownScenario) as info:
        parse("fial")
    message = str(info.value)
    assert "Unknown scenario 'fial'" in message
    assert "Did you mean 'fail'?" in message
    for name in REGISTRY:
        assert name in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("slow", "needs an argument: slow:<seconds>"),
        ("slow:abc", "must be a number"),
        ("slow:-1", "from 0 to 86400"),
        ("fail:100", "from 0 to 99"),
        ("fail:4.5", "must be an integer"),
        ("reject:404", "must be one of 400, 401, 429, 500, 502, 503"),
        ("garbage:xml", "must be one of json, html"),
        ("flaky:0", "from 1 to 1000"),
        ("disconnect:3", "takes no argument"),
        ("credits", "needs an argument: credits:<n>"),
    ],
)
def test_bad_arguments_say_what_is_allowed(text: str, fragment: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(fragment)):
        parse(text)


def test_registration_rejects_bad_and_duplicate_names() -> None:
    with pytest.raises(ValueError, match="lower-case words joined by hyphens"):
        scenario("Not_Valid", kind="job", effect="", client_sees="")
    with pytest.raises(ValueError, match="already registered"):
        scenario("fail", kind="job", effect="", client_sees="")


def test_every_scenario_is_documented() -> None:
    entries = catalogue()
    assert {e["name"] for e in entries} == set(REGISTRY)
    for entry in entries:
        assert entry["effect"]
        assert entry["clientSees"]


def test_the_scenarios_page_lists_every_scenario() -> None:
    section = SCENARIOS_PAGE.read_text(encoding="utf-8")
    for name in REGISTRY:
        assert f"`{name}" in section, name


# --- job timings (pure) ----------------------------------------------------------------------------------


def test_fail_at_progress_fails_there_with_a_realistic_error() -> None:
    t = timing_of("fail:40")
    assert t.fail_at == 40
    assert t.error in FAIL_ERRORS


def test_fail_without_progress_is_seeded() -> None:
    first = [timing_of("fail", seed=s) for s in range(20)]
    again = [timing_of("fail", seed=s) for s in range(20)]
    assert first == again
    assert len({t.fail_at for t in first}) > 1  # the seed matters
    assert all(t.fail_at is not None and 0 <= t.fail_at <= 90 for t in first)


def test_timeout_runs_past_the_request_timeout() -> None:
    t = timing_of("timeout", timeout=10)
    p = plan(created_at=0, slot_free_at=0, duration=t.duration, timeout=10, honour_timeout=t.honour_timeout)
    assert snapshot(p, 9.99).status is JobStatus.PROCESSING
    late = snapshot(p, 10)
    assert (late.status, late.error) == (JobStatus.FAIL, "Job timed out after 10 seconds")


def test_stall_never_ends_even_past_the_timeout() -> None:
    t = timing_of("stall:30", timeout=10)
    p = plan(created_at=0, slot_free_at=0, duration=t.duration, timeout=10, stall_at=t.stall_at, honour_timeout=False)
    assert p.ends_at == math.inf
    assert snapshot(p, 1e9).status is JobStatus.PROCESSING
    assert snapshot(p, 1e9).progress == 30


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("slow:30", "duration", 30.0),
        ("queued:10", "queued_extra", 10.0),
        ("not-yet:5", "not_found_for", 5.0),
        ("status-variant", "queued_status", "SUBMITTED"),
        ("status-variant:7", "queued_extra", 7.0),
        ("flaky:3", "flaky_every", 3),
        ("success", "duration", 3.0),
    ],
)
def test_job_scenarios_set_their_timing_field(text: str, field: str, value: object) -> None:
    assert getattr(timing_of(text), field) == value


def test_job_scenarios_combine_in_order() -> None:
    t = timing_of("slow:20, fail:50, queued:4")
    assert (t.duration, t.fail_at, t.queued_extra) == (20.0, 50, 4.0)


def test_wire_scenarios_fold_into_one_effect() -> None:
    effect = wire_effect(parse_list("latency:100, latency:50, reject:503, credits:12, fail"), random.Random(0))
    assert (effect.latency_ms, effect.reject, effect.credits, effect.disconnect) == (150, 503, 12, False)


def test_garbage_kind_is_seeded_when_not_given() -> None:
    kinds = [wire_effect(parse_list("garbage"), random.Random(s)).garbage for s in range(20)]
    assert kinds == [wire_effect(parse_list("garbage"), random.Random(s)).garbage for s in range(20)]
    assert set(kinds) == {"json", "html"}
