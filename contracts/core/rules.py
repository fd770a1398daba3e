"""Named request rules, derived from the request schemas in openapi.yaml, and bodies that break exactly one.

A rule is ``<field>.<keyword>`` for a JSON Schema keyword on one property (``n.maximum``,
``width.multipleOf``, ``timeout.minimum``, ``n.type``), ``<field>.required`` for a required
property, or ``additionalProperties``. Nothing here lists the contract's fields or bounds: the
table is computed from the operation's request schema, so a changed spec changes the rules.

A rule is only offered when it can be broken alone, in a body within the size limit (`BODY_LIMIT`: a 1 MiB
``mask.maxLength`` cannot be broken below it). ``prompt.minLength`` is not: the only
string shorter than 1 character is ``""``, which also breaks ``prompt.pattern`` (``\\S``). Each
rule's bodies are checked with the contract's validator to break that rule and nothing else.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from contracts.core.schema import BODY_LIMIT, contract

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

ADDITIONAL = "additionalProperties"
_KEYWORDS = (
    "type",
    "minimum",
    "maximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "format",
    "enum",
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a request body that a server must enforce.

    Attributes:
        name: ``<field>.<keyword>``, ``<field>.required`` or ``additionalProperties``.
        field: the property the rule is about (for ``additionalProperties``, the extra key is generated).
        keyword: the JSON Schema keyword.
        example: the canonical body that breaks only this rule (what ``flux-mock check`` sends).
        inferred: the property's ``x-inferred`` note, when the spec marks the rule as the mock's choice.
    """

    name: str
    field: str | None
    keyword: str
    example: dict[str, Any]
    inferred: str | None
    values: Callable[[], SearchStrategy[Any]]  # bad values for `field` (or extra keys for additionalProperties)


def _types(prop: Mapping[str, Any]) -> set[str]:
    kind = prop.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def rule_of(error: ValidationError) -> str:
    """The rule name a jsonschema error stands for."""
    keyword = str(error.validator)
    path = [str(p) for p in error.absolute_path]
    if keyword == "required" and isinstance(error.instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [name for name in required if name not in error.instance]
        return ".".join([*path, missing[0] if missing else "?", "required"])
    if keyword == ADDITIONAL and not path:
        return ADDITIONAL
    return ".".join([*path, keyword])


@functools.cache
def _validator(operation_id: str) -> Draft202012Validator:
    schema = _request_schema(operation_id)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _request_schema(operation_id: str) -> dict[str, Any]:
    schema = contract().operation(operation_id).request_schema
    if schema is None:
        raise ValueError(f"Operation {operation_id!r} has no JSON request body, so it has no body rules.")
    return schema


def broken_rules(operation_id: str, body: Any) -> set[str]:
    """The names of every rule `body` breaks for `operation_id` (empty: a valid body)."""
    return {rule_of(error) for error in _validator(operation_id).iter_errors(body)}


def body_operations() -> tuple[str, ...]:
    """The operationIds of every operation that takes a JSON request body, in document order."""
    return tuple(op.operation_id for op in contract().operations.values() if op.request_schema is not None)


def documented_examples(operation_id: str) -> list[dict[str, Any]]:
    """The operation's request examples from openapi.yaml (``$ref``'d request bodies included) that are valid."""
    spec = contract()
    op = spec.operation(operation_id)
    raw = spec.document["paths"][op.path][op.method.lower()].get("requestBody", {})
    content = spec.resolve(raw).get("content", {}).get("application/json", {})
    examples = [e.get("value") for e in content.get("examples", {}).values() if isinstance(e, dict)]
    examples += [content["example"]] if "example" in content else []
    return [dict(e) for e in examples if isinstance(e, dict) and not broken_rules(operation_id, e)]


def _base_example(operation_id: str) -> dict[str, Any]:
    """The smallest valid documented request example, else `minimal_body`: the base bad bodies change one thing in."""
    valid: list[dict[str, Any]] = documented_examples(operation_id)
    if not valid:
        return minimal_body(operation_id)
    smallest: dict[str, Any] = min(valid, key=len)
    return dict(smallest)


_UUID = "00000000-0000-4000-8000-000000000000"


def _minimal(schema: Mapping[str, Any]) -> Any:
    """A small instance of `schema`: each required property at its simplest (checked by the caller)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    for key in ("oneOf", "anyOf"):
        for option in schema.get(key, []):
            merged = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
            merged["properties"] = {**schema.get("properties", {}), **option.get("properties", {})}
            merged["required"] = [*schema.get("required", []), *option.get("required", [])]
            found = _minimal(merged)
            if Draft202012Validator(dict(schema), format_checker=Draft202012Validator.FORMAT_CHECKER).is_valid(found):
                return found
    kinds = sorted(_types(schema) - {"null"}) or ["object"]
    kind = kinds[0]
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _minimal(props.get(name, {})) for name in dict.fromkeys(schema.get("required", []))}
    if kind == "array":
        return [_minimal(schema.get("items", {}))] * max(1, int(schema.get("minItems", 1)))
    if kind == "string":
        return _UUID if schema.get("format") == "uuid" else _good_string(schema, lengths=True)
    if kind in ("integer", "number"):
        if "default" in schema and schema["default"] is not None:
            return schema["default"]
        low = schema.get("minimum", 1)
        step = schema.get("multipleOf")
        return -(-low // step) * step if step else low
    return True


def minimal_value(schema: Mapping[str, Any]) -> Any:
    """A simple value valid for `schema` (a path parameter's, say): its const, first enum value, minimum..."""
    return copy.deepcopy(_minimal(schema))


@functools.cache
def _minimal_body(operation_id: str) -> dict[str, Any]:
    body = _minimal(_request_schema(operation_id))
    broken = broken_rules(operation_id, body)
    if not isinstance(body, dict) or broken:
        raise ValueError(
            f"Cannot build a valid {operation_id} body from its request schema (tried {body!r}, which breaks "
            f"{', '.join(sorted(broken))}); add a request example to the operation in openapi.yaml."
        )
    return body


def minimal_body(operation_id: str) -> dict[str, Any]:
    """A valid body of `operation_id` holding only its required properties, built from the request schema.

    Raises:
        ValueError: naming the operation and what broke, when the schema defeats the builder.
    """
    return copy.deepcopy(_minimal_body(operation_id))


_PATTERN_PROBES = [" ", "\t \n", "ftp://example.com/a.png", "0:0", "101", "not valid", "x"]
_BAD_FORMATS = {
    "uri": ["http://exa mple.com/", "https://bad host/x.png"],
    "uuid": ["not-a-uuid"],
    "date-time": ["yesterday"],
}
_GOOD_STRINGS = ["a red fox in the snow", "https://example.com/image.png", "1:1", "80", "x"]


def _good_string(prop: Mapping[str, Any], *, lengths: bool = False) -> str:
    """A string that satisfies every keyword of `prop` except length limits (the base to pad or cut); with
    `lengths`, the limits too."""
    loose = {k: v for k, v in prop.items() if lengths or k not in ("minLength", "maxLength")}
    check = Draft202012Validator(loose, format_checker=Draft202012Validator.FORMAT_CHECKER)
    for candidate in [*(prop.get("enum") or []), prop.get("default"), *_GOOD_STRINGS]:
        if isinstance(candidate, str) and check.is_valid(candidate):
            return candidate
    return "x"


def _value_breakers(
    prop: Mapping[str, Any], good: Any = None
) -> dict[str, tuple[list[Any], Callable[[], SearchStrategy[Any]]]]:
    """For each keyword of `prop`: candidate bad values (preferred first) and a strategy of more.

    `good` is a valid value of the property (the base body's), which array bounds shorten or repeat.
    """
    from hypothesis import strategies as st

    out: dict[str, tuple[list[Any], Callable[[], SearchStrategy[Any]]]] = {}
    allowed = _types(prop)
    if "number" in allowed:
        allowed.add("integer")
    step = prop.get("multipleOf")
    if "type" in prop:
        # A value of each JSON type the field does not allow; the realistic mistake first:
        # "2" for a number, 80 for a string, "true" for a boolean.
        samples: dict[str, Any] = {
            "string": "true" if "boolean" in allowed else "2",
            "integer": 80,
            "boolean": True,
            "null": None,
            "array": [],
            "object": {},
        }
        others = {
            "string": st.text(max_size=8),
            "integer": st.integers(),
            "boolean": st.booleans(),
            "null": st.none(),
            "array": st.lists(st.integers(), max_size=2),
            "object": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        }
        first = "integer" if "string" in allowed else "string"
        wrong = sorted((kind for kind in samples if kind not in allowed), key=lambda kind: kind != first)
        out["type"] = ([samples[k] for k in wrong], lambda: st.one_of(*(others[k] for k in wrong)))
    if "minimum" in prop:
        low = prop["minimum"]
        top = (low - 1) // step if step else low - 1
        scale = step or 1
        out["minimum"] = ([top * scale], functools.partial(_multiples, None, top, scale))
    if "maximum" in prop:
        high = prop["maximum"]
        bottom = high // step + 1 if step else high + 1
        scale = step or 1
        out["maximum"] = ([bottom * scale], functools.partial(_multiples, bottom, None, scale))
    if step and "minimum" in prop and "maximum" in prop:
        low, high = prop["minimum"], prop["maximum"]
        middle = next(v for v in range((low + high) // 2 + 1, high + step) if v % step)
        out["multipleOf"] = ([middle], lambda: st.integers(low, high).filter(lambda v: v % step != 0))
    item = good[0] if isinstance(good, list) and good else _minimal(prop.get("items", {}))
    if "minItems" in prop and prop["minItems"] > 0:
        fewer = [item] * (int(prop["minItems"]) - 1)
        out["minItems"] = ([fewer], lambda: st.just(fewer))
    if "maxItems" in prop:
        more = [item] * (int(prop["maxItems"]) + 1)
        out["maxItems"] = ([more], lambda: st.integers(1, 4).map(lambda extra: [item] * (len(more) - 1 + extra)))
    good = _good_string(prop) if "string" in allowed else "x"
    if "minLength" in prop and prop["minLength"] > 0:
        short = prop["minLength"] - 1
        out["minLength"] = ([good[:short]], lambda: st.text(max_size=short))
    if "maxLength" in prop:
        size = prop["maxLength"]

        def pad(extra: int) -> str:
            return str(good) + "a" * (int(size) + extra - len(good))

        out["maxLength"] = ([pad(1)], lambda: st.integers(1, 64).map(pad))
    if "pattern" in prop:
        regex = re.compile(prop["pattern"])
        bad = [p for p in _PATTERN_PROBES if not regex.search(p)]
        sources = [st.sampled_from(bad), st.text(max_size=12), st.text(" \t\n", min_size=1)]
        if prop.get("format") == "uri":  # a pattern on a URI: other schemes are the values that keep the format
            sources.append(st.from_regex(r"[a-z][a-z0-9+.-]{0,7}://[a-z]{1,10}\.test/[a-z0-9]{0,8}", fullmatch=True))
        out["pattern"] = (bad, lambda: st.one_of(*sources).filter(lambda s: not regex.search(s)))
    if "format" in prop and prop["format"] in _BAD_FORMATS:
        values = _BAD_FORMATS[prop["format"]]
        out["format"] = (values, lambda: st.sampled_from(values))
    if "enum" in prop:
        choices = prop["enum"]
        names = ["unknown", "gif", "flux-2"]
        out["enum"] = (
            [n for n in names if n not in choices],
            lambda: st.text(min_size=1, max_size=12).filter(lambda s: s not in choices),
        )
    return out


def _multiples(low: int | None, high: int | None, step: int) -> SearchStrategy[int]:
    """k * step for every integer k in low..high (either bound may be open)."""
    from hypothesis import strategies as st

    return st.integers(min_value=low, max_value=high).map(lambda k: k * step)


def _extra_key(properties: Mapping[str, Any]) -> list[str]:
    # The realistic mistake: a camelCase spelling of a snake_case field (aspectRatio for aspect_ratio).
    camel = [re.sub(r"_(\w)", lambda m: m.group(1).upper(), name) for name in properties if "_" in name]
    return [name for name in [*camel, "unexpected"] if name not in properties]


@functools.cache
def rules(operation_id: str) -> dict[str, Rule]:
    """Every rule of `operation_id`'s request body that can be broken alone, by name, in spec order."""
    from hypothesis import strategies as st

    schema = _request_schema(operation_id)
    base = _base_example(operation_id)
    properties: dict[str, Any] = schema.get("properties", {})
    found: dict[str, Rule] = {}

    def offer(
        name: str,
        field: str | None,
        keyword: str,
        bodies: list[dict[str, Any]],
        values: Callable[[], SearchStrategy[Any]],
        inferred: str | None,
    ) -> None:
        for body in bodies:
            # A body over the size limit is refused (413) before any rule is read: the rule cannot be probed alone.
            if len(json.dumps(body).encode()) <= BODY_LIMIT and broken_rules(operation_id, body) == {name}:
                found[name] = Rule(name, field, keyword, body, inferred, values)
                return

    for field, prop in properties.items():
        inferred = prop.get("x-inferred")
        if field in schema.get("required", []):
            without = {k: v for k, v in base.items() if k != field}
            offer(f"{field}.required", field, "required", [without], lambda: st.nothing(), inferred)
        for keyword, (candidates, values) in _value_breakers(prop, base.get(field)).items():
            if keyword in _KEYWORDS:
                bodies = [{**base, field: value} for value in candidates]
                offer(f"{field}.{keyword}", field, keyword, bodies, values, inferred)
    for field, bodies in _conditional_required(schema, base):
        inferred = properties.get(field, {}).get("x-inferred")
        offer(f"{field}.required", field, "required", bodies, lambda: st.nothing(), inferred)
    if schema.get(ADDITIONAL) is False:
        keys = _extra_key(properties)
        offer(
            ADDITIONAL,
            None,
            ADDITIONAL,
            [{**base, key: True} for key in keys],
            lambda: st.from_regex(r"[a-z][a-zA-Z]{0,11}", fullmatch=True).filter(lambda k: k not in properties),
            schema.get("x-inferred"),
        )
    return found


def _conditional_required(schema: Mapping[str, Any], base: Mapping[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """``if: {properties: {f: {const: v}}} then: {required: [g]}``: bodies with f = v and without g."""
    condition, then = schema.get("if"), schema.get("then")
    if not isinstance(condition, Mapping) or not isinstance(then, Mapping):
        return []
    consts = {
        k: v["const"] for k, v in condition.get("properties", {}).items() if isinstance(v, Mapping) and "const" in v
    }
    if not consts:
        return []
    return [
        (field, [{**{k: v for k, v in base.items() if k != field}, **consts}])
        for field in then.get("required", [])
        if field not in schema.get("required", [])
    ]


def rule(operation_id: str, name: str) -> Rule:
    """The rule called `name`; ValueError listing the valid names otherwise."""
    table = rules(operation_id)
    if name in table:
        return table[name]
    import difflib

    close = difflib.get_close_matches(name, list(table), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"Unknown rule {name!r} for {operation_id}.{hint} Valid rules: {', '.join(table)}.")
