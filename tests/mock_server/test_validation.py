"""Validation is generated from openapi.yaml: each rule in the spec gets a rejecting case, derived, not listed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server import load_spec
from mock_server.problems import bounded
from mock_server.validation import SchemaValidator

SPEC = load_spec()
IMAGINE = SPEC.operation("fluxImagine").request_schema
UPSCALE = SPEC.operation("fluxUpscale").request_schema
assert IMAGINE is not None
assert UPSCALE is not None
VALID = {"imagine": {"prompt": "a red fox"}, "upscale": {"image": "https://example.com/a.png", "scale": 2}}
SCHEMAS = {"imagine": IMAGINE, "upscale": UPSCALE}


def _breakers(schema: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(field, keyword, bad value) for every bound in the schema: derived from the spec itself."""
    cases: list[tuple[str, str, Any]] = []
    for name, prop in schema["properties"].items():
        if "minimum" in prop:
            cases.append((name, "minimum", prop["minimum"] - (prop.get("multipleOf") or 1)))
        if "maximum" in prop:
            cases.append((name, "maximum", prop["maximum"] + (prop.get("multipleOf") or 1)))
        if "multipleOf" in prop:
            cases.append((name, "multipleOf", prop.get("minimum", 0) + prop["multipleOf"] + 1))
        if "enum" in prop:
            cases.append((name, "enum", "not-a-choice"))
        if "maxLength" in prop:
            cases.append((name, "maxLength", "h" * (prop["maxLength"] + 1)))
        if "pattern" in prop:
            cases.append((name, "pattern", " " if name == "prompt" else "ftp:x"))
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        wrong: Any = {"string": 12345, "integer": "7", "boolean": "yes"}[types[0]]
        cases.append((name, "type", wrong))
    return cases


RULES = [
    pytest.param(kind, name, keyword, bad, id=f"{kind}-{name}-{keyword}")
    for kind, schema in SCHEMAS.items()
    for name, keyword, bad in _breakers(schema)
]


def test_every_bound_in_the_spec_has_a_case() -> None:
    # Guards the generator above: if a rule is added to the spec, it appears here without editing the test.
    keywords = {(n, k) for _, n, k, _ in (p.values for p in RULES)}
    assert ("n", "maximum") in keywords
    assert ("width", "multipleOf") in keywords
    assert ("timeout", "minimum") in keywords
    assert len(RULES) >= 30


@pytest.mark.parametrize(("kind", "name", "keyword", "bad"), RULES)
def test_each_rule_rejects_with_field_named(kind: str, name: str, keyword: str, bad: Any) -> None:
    validator = SchemaValidator(SCHEMAS[kind])
    body = {**VALID[kind], name: bad}
    found = validator.violations(body)
    assert found, f"{name}={bad!r} was accepted"
    first = found[0]
    assert first.pointer == f"/{name}"
    assert first.value == bounded(bad)  # long values are echoed cut
    assert name in first.message
    assert first.hint, "every violation carries a fix hint"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"prompt": "x", "n": 5}, "n must not be greater than 4"),
        ({"prompt": "x", "n": 0}, "n must not be less than 1"),
        ({"prompt": "x", "width": 1001}, "width must be divisible by 8"),
        ({"prompt": "x", "timeout": 9}, "timeout must not be less than 10"),
        ({"prompt": "x", "timeout": 901}, "timeout must not be greater than 900"),
        ({"prompt": "x", "output_format": "gif"}, "output_format must be one of the following values: png, webp, jpg"),
        ({}, "Prompt is required."),
        ({"prompt": ""}, "prompt should not be empty"),
        ({"prompt": "x", "aspectRatio": "1:1"}, "property aspectRatio should not exist"),
        ({"prompt": "x", "n": "2"}, "n must be an integer number"),
    ],
)
def test_class_validator_wording(body: dict[str, Any], message: str) -> None:
    assert message in [v.message for v in SchemaValidator(IMAGINE).violations(body)]


@pytest.mark.parametrize(
    ("prompt", "valid"),
    [("a", True), ("\x1e", True), ("\x85", True), (" ", False), ("\t\n", False), ("\ufeff", False), ("\u3000", False)],
)
def test_blank_prompt_means_ecma_whitespace(prompt: str, valid: bool) -> None:
    # JSON Schema patterns are ECMA-262: U+001C..U+001F are not whitespace there, though Python's \\s says they are.
    assert SchemaValidator(IMAGINE).is_valid({"prompt": prompt}) is valid


def test_typo_gets_did_you_mean() -> None:
    (violation,) = SchemaValidator(IMAGINE).violations({"prompt": "x", "aspectRatio": "1:1"})
    assert violation.pointer == "/aspectRatio"
    assert "aspect_ratio" in violation.hint


def test_all_violations_reported_at_once() -> None:
    found = SchemaValidator(IMAGINE).violations({"n": 9, "width": 1001})
    assert [v.pointer for v in found] == ["/n", "/prompt", "/width"]


def test_null_means_default_and_integral_floats_are_integers() -> None:
    body = {"prompt": "x", "n": 4.0, "width": None, "timeout": 10.0}
    assert SchemaValidator(IMAGINE).violations(body) == []
    out = SchemaValidator(IMAGINE).normalise(body)
    assert out["n"] == 4
    assert type(out["n"]) is int
    assert out["width"] == 1024
    assert out["output_format"] == "png"
    assert out["timeout"] == 10
    assert type(out["timeout"]) is int


def test_changing_the_spec_changes_the_rule() -> None:
    # "Change a bound in the spec and the mock follows": a validator compiled from a modified schema.
    relaxed = {**IMAGINE, "properties": {**IMAGINE["properties"], "n": {**IMAGINE["properties"]["n"], "maximum": 8}}}
    assert SchemaValidator(IMAGINE).violations({"prompt": "x", "n": 6})
    assert SchemaValidator(relaxed).violations({"prompt": "x", "n": 6}) == []


def test_path_parameter_violation_names_it() -> None:
    schema = SPEC.operation("fetchMessage").path_parameters["messageId"]
    (violation,) = SchemaValidator(schema, location="path", name="messageId").violations("nope")
    assert violation.message == "messageId must be a UUID"
    assert violation.location == "path"
    assert violation.pointer == "/messageId"


@given(
    st.fixed_dictionaries(
        {"prompt": st.text(min_size=1).filter(str.strip)},
        optional={
            "n": st.one_of(st.none(), st.integers(-5, 10)),
            "width": st.integers(0, 2000),
            "webhookOverride": st.sampled_from(["http://x", "https://a.b/c", "ftp://x", "http://a b", "", "http://"]),
            "output_quality": st.one_of(st.text(max_size=4), st.integers()),
        },
    )
)
def test_fast_and_full_validators_agree(body: dict[str, Any]) -> None:
    # The fast path decides acceptance; the full validator explains. They must never disagree.
    validator = SchemaValidator(IMAGINE)
    assert validator.is_valid(body) == (not list(validator._full.iter_errors(body)))
