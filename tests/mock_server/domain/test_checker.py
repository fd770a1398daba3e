"""The generated body checker: the same yes or no as fastjsonschema on the contract's own bodies, valid, broken and
scrambled, and exact on the edges fastjsonschema draws (integral floats, booleans, null, a trailing newline)."""

from __future__ import annotations

from typing import Any

import fastjsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.strategies import invalid_requests, requests
from mock_server.contract.spec import load_spec
from mock_server.domain.checker import checker
from mock_server.domain.validation import compiled

SPEC = load_spec()
BODIES = {op.operation_id: op.request_schema for op in SPEC.operations.values() if op.request_schema is not None}
FLAT = sorted(name for name, schema in BODIES.items() if checker(schema, compiled) is not None)

# JSON values of every kind, and the ones near the contract's bounds, for scrambled bodies.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 5000),
    st.sampled_from([0.0, 4.0, 8.5, 1024.0, 1e300, -0.5, 900.0, 10**20]),
    st.sampled_from(["", " ", "x", "png", "webp", "1:1", "1:1\n", "16:9", "80", "100", "U1", "https://a.b/c", "a\n"]),
    st.text(max_size=12),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def fast_says(schema: dict[str, Any], body: Any) -> bool:
    try:
        compiled(schema)(body)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


@st.composite
def scrambled(draw: st.DrawFn, schema: dict[str, Any]) -> dict[str, Any]:
    """A body with some of the schema's keys (and maybe one it does not know), each holding any JSON value."""
    names = sorted(schema.get("properties", {}))
    keys = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names))) if names else []
    body = {key: draw(VALUES) for key in keys}
    if draw(st.booleans()) and names:
        body[draw(st.sampled_from(names))] = draw(st.sampled_from(["1:1\n", 4.0, True, None]))
    if draw(st.integers(0, 9)) == 0:
        body["unknownKey"] = 1
    return body


def test_every_flat_request_body_of_the_contract_gets_a_checker() -> None:
    # The hot paths' bodies (Flux imagine, Midjourney imagine, ...) must not fall back to fastjsonschema whole.
    assert {"fluxImagine", "fluxUpscale", "mjImagine", "videoGenerate", "universalImagine"} <= set(FLAT)


HOT = ("fluxImagine", "mjImagine", "videoGenerate")  # in the fast tier; every other body in the slow one


@pytest.mark.parametrize(
    "operation_id", [pytest.param(name, marks=() if name in HOT else pytest.mark.slow) for name in FLAT]
)
@given(data=st.data())
def test_the_checker_answers_as_fastjsonschema_does(operation_id: str, data: st.DataObject) -> None:
    schema = BODIES[operation_id]
    assert schema is not None
    check = checker(schema, compiled)
    assert check is not None
    body = data.draw(st.one_of(requests(operation_id), invalid_requests(operation_id), scrambled(schema)))
    assert check(body) == fast_says(schema, body), body


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["prompt"],
    "additionalProperties": False,
    "properties": {
        "prompt": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^[a-z]+$"},
        "n": {"type": ["integer", "null"], "minimum": 1, "maximum": 4},
        "width": {"type": "integer", "multipleOf": 8, "exclusiveMaximum": 32},
        "fmt": {"type": ["string", "null"], "enum": ["png", "webp", None]},
        "ratio": {"type": "number", "exclusiveMinimum": 0},
        "urls": {"type": "array", "items": {"type": "string"}, "maxItems": 1},  # fastjsonschema's business
        "flag": {"type": "boolean"},
    },
}


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"prompt": "abc"}, True),
        ({}, False),  # required
        ({"prompt": "abc", "extra": 1}, False),  # additionalProperties
        ({"prompt": ""}, False),
        ({"prompt": "abcdef"}, False),
        ({"prompt": "abc\n"}, False),  # "$" is the end of the string, as fastjsonschema compiles it
        ({"prompt": "ABC"}, False),
        ({"prompt": "abc", "n": None}, True),
        ({"prompt": "abc", "n": 4.0}, True),  # an integral float is an integer
        ({"prompt": "abc", "n": 2.5}, False),
        ({"prompt": "abc", "n": True}, False),  # a boolean is not a number
        ({"prompt": "abc", "n": 5}, False),
        ({"prompt": "abc", "width": 24}, True),
        ({"prompt": "abc", "width": 20}, False),  # multipleOf
        ({"prompt": "abc", "width": 32}, False),  # exclusiveMaximum
        ({"prompt": "abc", "fmt": "webp"}, True),
        ({"prompt": "abc", "fmt": None}, True),
        ({"prompt": "abc", "fmt": "gif"}, False),
        ({"prompt": "abc", "ratio": 0}, False),
        ({"prompt": "abc", "ratio": 0.1}, True),
        ({"prompt": "abc", "urls": ["a"]}, True),
        ({"prompt": "abc", "urls": ["a", "b"]}, False),
        ({"prompt": "abc", "urls": [1]}, False),
        ({"prompt": "abc", "flag": 0}, False),
        ({"prompt": "abc", "flag": False}, True),
        (["prompt"], False),
    ],
)
def test_each_keyword_says_no_where_fastjsonschema_does(body: Any, valid: bool) -> None:
    check = checker(SCHEMA, compiled)
    assert check is not None
    assert (check(body), fast_says(SCHEMA, body)) == (valid, valid)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string"},
        {"type": "object", "properties": {}, "if": {"required": ["a"]}, "then": {"required": ["b"]}},
        {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
        {"type": ["object", "null"], "properties": {}},
    ],
    ids=["not an object", "if-then", "schema for extra keys", "type list"],
)
def test_a_schema_that_is_not_flat_gets_none_so_fastjsonschema_keeps_it(schema: dict[str, Any]) -> None:
    assert checker(schema, compiled) is None
