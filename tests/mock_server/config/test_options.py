"""Options declared once on a dataclass field: the naming rule, parsing text, choices and ranges."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mock_server import SettingsError, option
from mock_server.config.options import declared, env_name, field_named, flag_name, parse_text


@dataclass(frozen=True)
class Sample:
    rate: float = field(default=1.0, metadata=option("Rate.", minimum=0, above=True, presets=(("fast", 9.0),)))
    count: int = field(default=1, metadata=option("Count.", minimum=1, maximum=4))
    wait: float = field(default=1.0, metadata=option("Wait.", minimum=0, above=True, maximum=60))
    hosts: tuple[str, ...] = field(default=(), metadata=option("Host (repeatable).", flag="--host"))
    parts: frozenset[str] = field(default=frozenset(), metadata=option("Parts.", separator=",", choices=("a", "b")))
    mode: str = field(default="x", metadata=option("Mode.", choices=("x", "y"), env="SAMPLE_MODE"))
    loud: bool = field(default=False, metadata=option("Loud."))
    internal: str = "set by code"


def test_the_naming_rule_is_the_field_name_with_dashes_unless_a_flag_is_declared() -> None:
    assert flag_name(field_named(Sample, "rate")) == "--rate"
    assert flag_name(field_named(Sample, "hosts")) == "--host"
    assert env_name(field_named(Sample, "rate"), "P_") == "P_RATE"
    assert env_name(field_named(Sample, "mode"), "P_") == "SAMPLE_MODE"
    assert [f.name for f in declared(Sample)] == ["rate", "count", "wait", "hosts", "parts", "mode", "loud"]


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("rate", "fast", 9.0),
        ("rate", "0.5", 0.5),
        ("count", "4", 4),
        ("hosts", "a, b", ("a", "b")),
        ("parts", "b,a", frozenset({"a", "b"})),
        ("loud", "yes", True),
        ("loud", "OFF", False),
    ],
)
def test_text_parses_by_annotation_and_presets(name: str, raw: str, expected: object) -> None:
    assert parse_text(field_named(Sample, name), raw, source="--x") == expected


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("rate", "0", "--x has value 0.0; it must be greater than 0"),
        ("rate", "slow", "--x has value 'slow', which is not a number or one of fast"),
        ("count", "5", "it must be from 1 to 4"),
        ("wait", "0", "--x has value 0.0; it must be greater than 0 and at most 60"),
        ("count", "two", "which is not a whole number"),
        ("parts", "a,c", "use one of a, b"),
        ("mode", "yy", "Did you mean 'y'?"),
        ("loud", "maybe", "use one of"),
    ],
)
def test_bad_text_names_the_source_the_value_and_what_is_allowed(name: str, raw: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace("?", r"\?")):
        parse_text(field_named(Sample, name), raw, source="--x")
