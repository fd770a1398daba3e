"""Request rules derived from the spec: names, isolation, and the canonical bad bodies."""

from __future__ import annotations

import pytest

from contracts.core import rules

IMAGINE = rules.rules("fluxImagine")


def test_the_rules_the_issue_names_exist() -> None:
    wanted = {
        "n.maximum",
        "n.minimum",
        "timeout.minimum",
        "timeout.maximum",
        "width.multipleOf",
        "height.multipleOf",
        "prompt.required",
        "n.type",
        "width.type",
        "additionalProperties",
    }
    assert wanted <= set(IMAGINE)


def test_bounds_come_from_the_spec() -> None:
    assert IMAGINE["n.maximum"].example["n"] == 5
    assert IMAGINE["n.minimum"].example["n"] == 0
    assert IMAGINE["timeout.minimum"].example["timeout"] == 9
    assert IMAGINE["timeout.maximum"].example["timeout"] == 901
    # width keeps its multipleOf when breaking a bound, so only the bound breaks
    assert IMAGINE["width.maximum"].example["width"] == 1448
    assert IMAGINE["width.minimum"].example["width"] == 248
    assert IMAGINE["width.multipleOf"].example["width"] % 8 != 0


def test_realistic_mistakes_are_the_canonical_examples() -> None:
    assert IMAGINE["n.type"].example["n"] == "2"  # a number sent as a string
    assert IMAGINE["output_quality.type"].example["output_quality"] == 80  # a string sent as a number
    assert "aspectRatio" in IMAGINE["additionalProperties"].example  # camelCase typo of aspect_ratio
    assert "prompt" not in IMAGINE["prompt.required"].example


@pytest.mark.parametrize("name", list(IMAGINE))
def test_each_canonical_body_breaks_exactly_its_rule(name: str) -> None:
    assert rules.broken_rules("fluxImagine", IMAGINE[name].example) == {name}


@pytest.mark.parametrize("name", list(rules.rules("fluxUpscale")))
def test_upscale_rules_are_isolated_too(name: str) -> None:
    assert rules.broken_rules("fluxUpscale", rules.rules("fluxUpscale")[name].example) == {name}


def test_rules_that_cannot_break_alone_are_not_offered() -> None:
    # "" is the only string shorter than 1 and it also breaks prompt.pattern (\S)
    assert "prompt.minLength" not in IMAGINE
    # any non-string output_format is also outside its enum
    assert "output_format.type" not in IMAGINE


def test_inferred_rules_carry_the_specs_reason() -> None:
    assert IMAGINE["width.maximum"].inferred
    assert "1440" in IMAGINE["width.maximum"].inferred
    assert IMAGINE["n.maximum"].inferred is None


def test_unknown_rule_names_the_closest_and_lists_all() -> None:
    with pytest.raises(
        ValueError, match=r"Unknown rule 'n\.max' for fluxImagine\. Did you mean 'n\.maximum'\?"
    ) as info:
        rules.rule("fluxImagine", "n.max")
    assert "width.multipleOf" in str(info.value)


def test_operations_without_a_body_have_no_rules() -> None:
    with pytest.raises(ValueError, match="no JSON request body"):
        rules.rules("fetchMessage")


def test_valid_examples_break_nothing() -> None:
    assert rules.broken_rules("fluxImagine", {"prompt": "a fox", "n": 4.0, "width": 1440}) == set()
