"""Validation is generated from openapi.yaml: each rule in the spec gets a rejecting case, derived, not listed."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_server import load_spec
from mock_server.contract.problems import bounded
from mock_server.domain import validation
from mock_server.domain.validation import SchemaValidator

SPEC = load_spec()
IMAGINE = SPEC.operation("fluxImagine").request_schema
UPSCALE = SPEC.operation("fluxUpscale").request_schema
assert IMAGINE is not None
assert UPSCALE is not None
VALID: dict[str, dict[str, Any]] = {
    "imagine": {"prompt": "a red fox"},
    "upscale": {"image": "https://example.com/a.png", "scale": 2},
}
SCHEMAS: dict[str, dict[str, Any]] = {"imagine": IMAGINE, "upscale": UPSCALE}


def _minimal(schema: dict[str, Any]) -> Any:
    """A small valid instance of `schema`: each required property at its simplest."""
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type", "object")
    kind = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
    if kind == "object":
        body = {name: _minimal(schema["properties"][name]) for name in schema.get("required", [])}
        if "oneOf" in schema:  # a content block: the first alternative's shape
            first = schema["oneOf"][0]
            body = {
                "type": first["properties"]["type"]["const"],
                **{n: _minimal(schema["properties"][n]) for n in first["required"]},
            }
        return body
    if kind == "array":
        return [_minimal(schema["items"])] * max(1, schema.get("minItems", 1))
    if kind == "string":
        if schema.get("format") == "uuid":
            return "00000000-0000-4000-8000-000000000000"
        if ("pattern" in schema and "Tt" in schema["pattern"]) or schema.get("format") == "uri":
            return "https://example.com/a.png"
        return "a red fox"
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    return True


# Every other job-creating or body-taking operation of the grown contract: its rules are checked the same way.
for _op in SPEC.operations.values():
    if _op.request_schema is not None and _op.operation_id not in ("fluxImagine", "fluxUpscale"):
        SCHEMAS[_op.operation_id] = _op.request_schema
        VALID[_op.operation_id] = _minimal(_op.request_schema)


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
        if "type" not in prop:
            continue
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        wrong: Any = {"string": 12345, "integer": "7", "number": "7.5", "boolean": "yes", "array": "x", "object": 5}
        cases.append((name, "type", wrong[types[0]]))
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
    assert {"mjButton", "videoExtend", "universalImagine", "zimage"} <= {p.values[0] for p in RULES}


@pytest.mark.parametrize("operation_id", sorted(SCHEMAS))
def test_the_minimal_bodies_are_valid(operation_id: str) -> None:
    # The generator of the cases above starts from a valid body, or every case would pass for the wrong reason.
    assert SchemaValidator(SCHEMAS[operation_id]).violations(VALID[operation_id]) == []


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


# Compiled validators: kept in the contract's on-disk cache, named by the exact schema.

CACHED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["prompt"],
    "properties": {"prompt": {"type": "string", "pattern": "^[a-z ]+$"}, "n": {"type": "integer", "maximum": 4}},
}
SAMPLES: list[Any] = [{"prompt": "a fox"}, {"prompt": "A FOX"}, {"prompt": "a", "n": 5}, {}, [], "x", None]


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory and an empty in-process memo."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(validation, "_COMPILED", {})
    return tmp_path / "flux-mock"


def _verdicts(check: Callable[[Any], Any], samples: list[Any]) -> list[bool]:
    verdicts = []
    for sample in samples:
        try:
            check(sample)
        except fastjsonschema.JsonSchemaValueException:
            verdicts.append(False)
        else:
            verdicts.append(True)
    return verdicts


def test_a_cached_validator_judges_as_fastjsonschema_compiles_it(
    fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _verdicts(fastjsonschema.compile(CACHED_SCHEMA, use_default=False), SAMPLES)
    assert expected == [True, False, False, False, False, False, False]
    assert _verdicts(validation.compiled(CACHED_SCHEMA), SAMPLES) == expected
    assert len(list(fresh_cache.glob("validator-*"))) == 1

    def no_compiling(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("compiled again although the cache holds this schema")

    monkeypatch.setattr(validation, "_COMPILED", {})
    monkeypatch.setattr(fastjsonschema, "compile_to_code", no_compiling)
    assert _verdicts(validation.compiled(CACHED_SCHEMA), SAMPLES) == expected


def test_an_edited_schema_is_compiled_afresh(fresh_cache: Path) -> None:
    validation.compiled(CACHED_SCHEMA)
    edited = copy.deepcopy(CACHED_SCHEMA)
    edited["properties"]["n"]["maximum"] = 5
    assert _verdicts(validation.compiled(edited), SAMPLES)[2] is True
    assert _verdicts(validation.compiled(CACHED_SCHEMA), SAMPLES)[2] is False
    assert len(list(fresh_cache.glob("validator-*"))) == 2


def test_a_damaged_entry_is_compiled_again(fresh_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    validation.compiled(CACHED_SCHEMA)
    (entry,) = fresh_cache.glob("validator-*")
    entry.write_bytes(b"\xffnot marshal")
    monkeypatch.setattr(validation, "_COMPILED", {})
    assert _verdicts(validation.compiled(CACHED_SCHEMA), SAMPLES)[:2] == [True, False]


def test_a_schema_fastjsonschema_rejects_stops_the_start_cache_or_not(fresh_cache: Path) -> None:
    validation.compiled(CACHED_SCHEMA)
    for _ in range(2):
        with pytest.raises(fastjsonschema.JsonSchemaDefinitionException, match="Unknown type"):
            SchemaValidator({"type": "strin"})


def test_a_schema_that_is_not_json_is_compiled_but_not_cached(fresh_cache: Path) -> None:
    check = validation.compiled({"type": "integer", "maximum": 2**70})  # beyond what the cache's JSON can name
    assert _verdicts(check, [5, 2**70, 2**71]) == [True, True, False]
    assert not fresh_cache.exists()
