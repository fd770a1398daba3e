"""Scenario texts: names, presets, burst sizes, and the signature scenarios that need a secret."""

from __future__ import annotations

import pytest

from contracts.receiver.scenarios import (
    BURST_DEFAULT,
    DEFAULT_SCENARIOS,
    PRESETS,
    SCENARIOS,
    SIGNATURE,
    ScenarioError,
    parse,
    plan,
)


def _names(texts: tuple[str, ...], *, signed: bool = True) -> list[str]:
    chosen, _ = plan(texts, signed=signed)
    return [p.text for p in chosen]


def test_presets_cover_every_scenario_and_the_default_is_documented() -> None:
    assert PRESETS["all"] == tuple(SCENARIOS)
    assert set(PRESETS["default"]) | {"progress-after-final", "early-final", "burst"} == set(SCENARIOS)
    assert PRESETS["default"] == DEFAULT_SCENARIOS
    assert set(SIGNATURE) == {s.name for s in SCENARIOS.values() if s.expect == "reject"}


def test_presets_expand_in_place_once_each() -> None:
    assert _names(("duplicate", "default", "burst:40", "burst")) == [
        "duplicate",
        *(n for n in DEFAULT_SCENARIOS if n != "duplicate"),
        "burst:40",
    ]


def test_without_a_secret_a_preset_leaves_the_signature_scenarios_out_and_says_which() -> None:
    chosen, skipped = plan(("all",), signed=False)
    assert [p.text for p in chosen] == [n for n in SCENARIOS if n not in SIGNATURE]
    assert skipped == SIGNATURE


@pytest.mark.parametrize("text", ["bad-signature", "signature"])
def test_without_a_secret_naming_a_signature_scenario_is_an_error(text: str) -> None:
    with pytest.raises(ScenarioError, match=f"^{text} needs a secret.*--secret whsec_"):
        plan((text,), signed=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dupliate", "'dupliate' is not a receiver scenario. Did you mean 'duplicate'?"),
        ("stale", "Did you mean 'stale-timestamp'?"),
        ("everything", "presets: default, signature, all"),
        ("burst:1", "N in burst:N is a whole number from 2 to 500"),
        ("burst:many", "N in burst:N is a whole number"),
        ("done:3", "only burst takes a value"),
    ],
)
def test_a_bad_text_names_the_choices(text: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("?", r"\?")):
        parse(text)


def test_burst_size_defaults_and_nothing_is_no_plan() -> None:
    assert parse("burst").count == BURST_DEFAULT
    assert parse(" burst:07 ").text == "burst:7"
    with pytest.raises(ScenarioError, match="at least one scenario"):
        plan((" ", ""), signed=True)
