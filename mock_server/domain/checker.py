"""A yes/no check of a request body, generated from its schema as straight-line Python.

fastjsonschema's code for a body tests every property the schema names (`in` a set copied from the body), each
value against a tuple of types, and costs a Flux create ~26k instructions, a tenth of all it does. Request bodies
in openapi.yaml are flat: an object with `properties`, `required` and ``additionalProperties: false``, each
property a handful of keywords. For such a schema `checker` writes one function that looks up only what the body
holds, compares types by identity (``type(v) is int``) and counts the keys it knows, ~3x cheaper.

It never says yes where fastjsonschema says no (compiled in the same process, the two are compared on generated
bodies by `tests/mock_server/domain/test_checker.py`): where it is unsure it says no, and a no is only ever a
reason to ask jsonschema for the violations, which decides. So it may be stricter than fastjsonschema, never
looser:
- a property with a keyword outside `_KEYWORDS` (``items``, ``oneOf``, ``format``, ``const``, a non-string enum, ...)
  is checked by fastjsonschema's validator for that property alone (compiled on first use);
- a schema that is not flat in this sense (``if``/``then``, ``$ref``, a non-object) gets no checker (None), and
  `validation` keeps fastjsonschema's for it;
- patterns are compiled as fastjsonschema compiles them (``$`` at the end means the end of the string).
"""

from __future__ import annotations

import importlib.util
import math
import re
import types
from collections.abc import Callable
from typing import Any

import fastjsonschema
import orjson
from fastjsonschema.draft04 import DOLLAR_FINDER

from mock_server.contract import cache

Check = Callable[[Any], bool]

# Keywords the generated code checks itself; annotations are ignored; any other keyword hands the property to
# fastjsonschema.
_KEYWORDS = frozenset(
    {"type", "enum", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    | {"multipleOf", "pattern"}
)
_ANNOTATIONS = frozenset({"description", "default", "examples", "example", "title", "deprecated", "readOnly"})
_TOP = frozenset({"type", "properties", "required", "additionalProperties"})

# A JSON type's test of `v`, by identity: strict (a str subclass is not a str here), which only ever says no.
_TYPE_TESTS = {
    "string": "type(v) is str",
    "integer": "(type(v) is int or (type(v) is float and v.is_integer()))",
    "number": "(type(v) is int or type(v) is float)",
    "boolean": "(v is True or v is False)",
    "null": "v is None",
    "object": "type(v) is dict",
    "array": "type(v) is list",
}


def checker(schema: Any, fallback: Callable[[dict[str, Any]], Callable[[Any], Any]]) -> Check | None:
    """A function answering whether a body is valid against `schema` (None when the schema is not flat).

    `fallback(property_schema)` gives fastjsonschema's validator for one property (it raises when invalid); it is
    asked on first use of such a property. Each schema's checker is made once per process (apps share it).
    """
    try:
        key = (orjson.dumps(schema), fallback)
    except TypeError:  # not JSON (e.g. a YAML timestamp): made afresh
        return _checker(schema, fallback)
    if key not in _MADE:
        _MADE[key] = _checker(schema, fallback)
    return _MADE[key]


_MADE: dict[tuple[bytes, Callable[..., Any]], Check | None] = {}


def _checker(schema: Any, fallback: Callable[[dict[str, Any]], Callable[[Any], Any]]) -> Check | None:
    if not _flat(schema):
        return None
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    if not required <= properties.keys() and schema.get("additionalProperties") is False:
        return None  # a required key the schema forbids: leave that oddity to fastjsonschema
    names: dict[str, Any] = {}
    lines = ["def check(data):", "    if type(data) is not dict:", "        return False", "    known = 0"]
    for index, (name, prop) in enumerate(properties.items()):
        if not isinstance(name, str) or not isinstance(prop, dict):
            return None
        key = repr(name)
        lines.append(f"    if {key} in data:")
        lines.append("        known += 1")
        lines.append(f"        v = data[{key}]")
        lines += ["        " + line for line in _property(prop, index, names, fallback)]
        if name in required:
            lines += ["    else:", "        return False"]
    extra = schema.get("additionalProperties", True)
    lines.append("    return known == len(data)" if extra is False else "    return True")
    for name in required - properties.keys():  # required but not described: present is all it asks
        lines.insert(4, f"    if {name!r} not in data: return False")
    namespace: dict[str, Any] = dict(names)
    exec(_code("\n".join(lines) + "\n"), namespace)  # the code written above
    check: Check = namespace["check"]
    return check


def _code(source: str) -> types.CodeType:
    # Compiling every body's checker costs a start ~10 ms: the code is kept in the contract's cache, by its text.
    name = cache.entry_name("checker", importlib.util.MAGIC_NUMBER, source)
    return cache.code(name, lambda: source, "<flux-mock checker>")


def says_yes(validate: Callable[[Any], Any], value: Any) -> bool:
    """Whether a fastjsonschema validator (it raises when `value` is invalid) accepts `value`."""
    try:
        validate(value)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _flat(schema: Any) -> bool:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return False
    keys = {k for k in schema if not k.startswith("x-") and k not in _ANNOTATIONS}
    extra = schema.get("additionalProperties", True)
    return keys <= _TOP and isinstance(schema.get("properties", {}), dict) and isinstance(extra, bool)


def _property(prop: dict[str, Any], index: int, names: dict[str, Any], fallback: Callable[..., Any]) -> list[str]:
    """The lines checking one present property's value `v` (each returns False when it fails)."""
    keywords = {k for k in prop if not k.startswith("x-") and k not in _ANNOTATIONS}
    if not keywords <= _KEYWORDS or not _simple(prop):
        names[f"S{index}"] = _Lazy(prop, fallback)
        return [f"if not S{index}(v):", "    return False"]
    types = prop.get("type")
    kinds = [types] if isinstance(types, str) else list(types) if isinstance(types, list) else []
    lines: list[str] = []
    if kinds:
        lines += [f"if not ({' or '.join(_TYPE_TESTS[k] for k in kinds)}):", "    return False"]
    if "enum" in prop:
        allowed = frozenset(x for x in prop["enum"] if x is not None)
        names[f"E{index}"] = allowed
        test = f"(type(v) is str and v in E{index})"
        lines += [f"if not (v is None or {test}):" if None in prop["enum"] else f"if not {test}:", "    return False"]
    text = ["n = len(v)"] if "minLength" in prop or "maxLength" in prop else []
    if "minLength" in prop:
        text += [f"if n < {int(prop['minLength'])}:", "    return False"]
    if "maxLength" in prop:
        text += [f"if n > {int(prop['maxLength'])}:", "    return False"]
    if "pattern" in prop:
        names[f"P{index}"] = re.compile(DOLLAR_FINDER.sub(r"\\Z", prop["pattern"])).search
        text += [f"if P{index}(v) is None:", "    return False"]
    if text:
        lines += ["if type(v) is str:", *("    " + line for line in text)]
    number: list[str] = []
    for keyword, failing in (
        ("minimum", "v < {}"),
        ("maximum", "v > {}"),
        ("exclusiveMinimum", "v <= {}"),
        ("exclusiveMaximum", "v >= {}"),
    ):
        if keyword in prop:
            number += [f"if {failing.format(repr(prop[keyword]))}:", "    return False"]
    if "multipleOf" in prop:
        number += [f"if v % {prop['multipleOf']!r}:", "    return False"]
    if number:
        lines += ["if type(v) is int or type(v) is float:", *("    " + line for line in number)]
    return lines


def _simple(prop: dict[str, Any]) -> bool:
    """Whether every keyword's value is one the generated code handles exactly (else: fastjsonschema)."""
    types = prop.get("type")
    kinds = [types] if isinstance(types, str) else types
    if types is not None and (not isinstance(kinds, list) or not all(k in _TYPE_TESTS for k in kinds)):
        return False
    if "enum" in prop and not (
        isinstance(prop["enum"], list) and all(x is None or isinstance(x, str) for x in prop["enum"])
    ):
        return False
    for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = prop.get(keyword, 0)
        if isinstance(bound, bool) or not isinstance(bound, int | float) or not math.isfinite(bound):
            return False
    for keyword in ("minLength", "maxLength"):
        if keyword in prop and (isinstance(prop[keyword], bool) or not isinstance(prop[keyword], int)):
            return False
    step = prop.get("multipleOf", 1)
    if isinstance(step, bool) or not isinstance(step, int) or step <= 0:
        return False  # a fractional step: float remainders are fastjsonschema's business
    return "pattern" not in prop or isinstance(prop["pattern"], str)


class _Lazy:
    """fastjsonschema's validator for one property, compiled when first needed, answering yes or no."""

    __slots__ = ("fallback", "schema", "validate")

    def __init__(self, schema: dict[str, Any], fallback: Callable[..., Any]) -> None:
        self.schema = schema
        self.fallback = fallback
        self.validate: Callable[[Any], Any] | None = None

    def __call__(self, value: Any) -> bool:
        if self.validate is None:
            self.validate = self.fallback(self.schema)
        return says_yes(self.validate, value)
