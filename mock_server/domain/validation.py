"""Request validation compiled from openapi.yaml: nothing here restates a rule.

Two validators per schema:
- a compiled function answers "valid?" in a few microseconds (the hot path): for a flat body schema, the
  straight-line check `checker` writes; for any other, fastjsonschema's. Their code is compiled once per
  schema and kept in the contract's on-disk cache (`compiled`), as compiling every schema of openapi.yaml
  costs each start about 0.2 s;
- only when it says no, jsonschema (Draft 2020-12, with format checks) lists every
  violation with its keyword, JSON pointer and bound, which become class-validator style
  messages ("n must not be greater than 4") plus a hint.
"""

from __future__ import annotations

import copy
import difflib
import functools
import importlib.util
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import fastjsonschema
import orjson
from fastjsonschema.ref_resolver import RefResolver

from mock_server.contract import cache
from mock_server.contract.problems import Violation
from mock_server.domain.checker import checker, says_yes

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

_TYPE_WORDS = {
    "integer": ("an integer number", "send a JSON number without quotes, e.g. 2"),
    "number": ("a number", "send a JSON number without quotes"),
    "string": ("a string", 'send a JSON string in double quotes, e.g. "80"'),
    "boolean": ("a boolean value", "send true or false without quotes"),
    "object": ("an object", "send a JSON object: {...}"),
    "array": ("an array", "send a JSON array: [...]"),
}


def nesting_depth(value: Any, limit: int) -> int:
    """How deep `value` nests (a scalar is 0, ``[1]`` is 1), counted without recursion and up to `limit` + 1."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((child, depth) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


_COMPILED: dict[str, Callable[[Any], Any]] = {}  # by cache entry name: each schema compiled once per process


def compiled(schema: dict[str, Any]) -> Callable[[Any], Any]:
    """fastjsonschema's validator for `schema` (defaults not filled in), its code read from the cache when it can be.

    The entry is named by the schema's exact JSON and fastjsonschema's version, so an edited schema is compiled
    afresh; a schema fastjsonschema rejects raises `fastjsonschema.JsonSchemaDefinitionException` as before.
    """
    try:
        name = cache.entry_name("validator", fastjsonschema.VERSION, importlib.util.MAGIC_NUMBER, orjson.dumps(schema))
    except TypeError:  # not JSON (e.g. a YAML timestamp): compiled, not cached
        return fastjsonschema.compile(copy.deepcopy(schema), use_default=False)
    found = _COMPILED.get(name)
    if found is None:
        code = cache.code(
            name, lambda: fastjsonschema.compile_to_code(copy.deepcopy(schema), use_default=False), "<fastjsonschema>"
        )
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # defines the validator (and compiles its regular expressions)
        found = _COMPILED[name] = namespace[RefResolver.from_schema(schema, store={}).get_scope_name()]
    return found


def _pointer(path: Iterable[Any]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _field(path: Iterable[Any], root: str) -> str:
    parts = [str(p) for p in path]
    return ".".join(parts) if parts else root


class SchemaValidator:
    """Validate one part of a request (a body, a path parameter) against one resolved schema."""

    def __init__(self, schema: dict[str, Any], *, location: str = "body", name: str | None = None) -> None:
        self.schema = schema
        self.location = location
        self.name = name or location  # what the whole instance is called in messages
        self.root_pointer = f"/{name}" if name and location != "body" else ""
        self._fast: Callable[[Any], Any] = compiled(schema)
        # The hot path's yes/no: straight-line code for a flat body schema, fastjsonschema's otherwise.
        self._check: Callable[[Any], bool] = checker(schema, compiled) or functools.partial(says_yes, self._fast)
        self._full_validator: Draft202012Validator | None = None  # built on first need (see `_full`)
        props: dict[str, Any] = schema.get("properties", {}) if isinstance(schema, dict) else {}
        # Precomputed once so the per-request work touches only the keys that matter.
        self._format_keys = tuple(name for name, prop in props.items() if "format" in prop)
        self._defaults = {name: prop["default"] for name, prop in props.items() if "default" in prop}
        self._integer_keys = frozenset(name for name, prop in props.items() if _allows_integer(prop))

    @property
    def _full(self) -> Draft202012Validator:
        """jsonschema's validator, imported and built when a request first needs it (it costs every start ~0.1 s)."""
        if self._full_validator is None:
            from jsonschema import Draft202012Validator

            self._full_validator = Draft202012Validator(self.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self._full_validator

    def is_valid(self, instance: Any) -> bool:
        """Fast yes/no answer."""
        return self._check(instance) and (not self._format_keys or self._formats_hold(instance))

    def _formats_hold(self, instance: Any) -> bool:
        # fastjsonschema's "uri" format is a loose regex; jsonschema's rfc3987 check is the reference.
        # Only strings under a `format` keyword need the second opinion, so this stays off the hot path otherwise.
        if not isinstance(instance, dict):
            return True
        for key in self._format_keys:
            if isinstance(instance.get(key), str):
                return bool(self._full.is_valid(instance))
        return True

    def normalise(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply the spec's defaults (for absent or null fields) and turn integral floats into ints.

        JSON Schema counts 4.0 as an integer, so it passed validation; code downstream wants an int.
        The schema walk is done once at start-up; this touches only the keys sent.
        """
        out = dict(self._defaults)
        for name, value in body.items():
            if value is None:
                continue  # null means "the default" (or stays absent)
            if type(value) is float and name in self._integer_keys and value.is_integer():
                value = int(value)
            out[name] = value
        return out

    def violations(self, instance: Any) -> list[Violation]:
        """Every violation, most specific first; empty when valid."""
        if self.is_valid(instance):
            return []
        errors = sorted(self._full.iter_errors(instance), key=lambda e: (list(map(str, e.path)), e.validator))
        found = [v for error in errors for v in self._describe(error)]
        if found:
            return sorted(found, key=lambda v: v.pointer)
        # The two validators disagree (should not happen); report the fast one's finding rather than nothing.
        try:
            self._fast(instance)
        except fastjsonschema.JsonSchemaValueException as exc:
            return [Violation(self.location, "", str(exc.rule), exc.rule_definition, exc.value, exc.message, "")]
        return []

    def _describe(self, error: ValidationError) -> list[Violation]:
        keyword = str(error.validator)
        path = list(error.path)
        if keyword == "additionalProperties" and isinstance(error.instance, dict):
            return self._extra_properties(error, path)
        field = _field(path, self.name)
        rule_schema = error.schema if isinstance(error.schema, dict) else {}
        custom = rule_schema.get("x-messages", {})
        expected = error.validator_value
        value = error.instance
        message, hint = self._words(keyword, field, expected, value, error)
        if keyword == "required":
            missing = _missing_property(error)
            path = [*path, missing]
            prop_schema = self.schema_at(path)
            message = prop_schema.get("x-messages", {}).get("required", f"{missing} should not be empty")
            hint = f'add "{missing}" to the JSON body'
            value = None
        elif keyword in custom:
            # A shared schema's message names no field ("must be an http:// URL"): put the field in front.
            text = str(custom[keyword])
            message = text if text.split(" ", 1)[0] == field or not text.startswith("must ") else f"{field} {text}"
        return [Violation(self.location, self.root_pointer + _pointer(path), keyword, expected, value, message, hint)]

    def _extra_properties(self, error: ValidationError, path: list[Any]) -> list[Violation]:
        known = list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
        instance: dict[str, Any] = error.instance if isinstance(error.instance, dict) else {}
        out = []
        for name in sorted(set(instance) - set(known)):
            close = difflib.get_close_matches(name, known, n=1)
            hint = f'did you mean "{close[0]}"?' if close else f"remove it; allowed: {', '.join(known)}"
            message = f"property {name} should not exist"
            out.append(
                Violation(
                    self.location,
                    _pointer([*path, name]),
                    "additionalProperties",
                    False,
                    instance[name],
                    message,
                    hint,
                )
            )
        return out

    def schema_at(self, path: list[Any]) -> dict[str, Any]:
        """The resolved sub-schema for a property path (object properties only)."""
        node: dict[str, Any] = self.schema
        for part in path:
            node = node.get("properties", {}).get(str(part), {})
        return node

    def _words(self, keyword: str, field: str, expected: Any, value: Any, error: ValidationError) -> tuple[str, str]:
        if keyword == "type":
            types = [expected] if isinstance(expected, str) else [t for t in expected if t != "null"]
            word, hint = _TYPE_WORDS.get(types[0], (f"of type {types[0]}", ""))
            if len(types) == 1 and isinstance(expected, list):
                hint += " (or null for the default)"
            return f"{field} must be {word}", hint
        if keyword == "minimum":
            return f"{field} must not be less than {expected}", self._range_hint(error, field)
        if keyword == "maximum":
            return f"{field} must not be greater than {expected}", self._range_hint(error, field)
        if keyword == "multipleOf":
            low = int(value // expected * expected) if isinstance(value, int | float) else expected
            return (
                f"{field} must be divisible by {expected}",
                f"use a multiple of {expected}, e.g. {low} or {low + expected}",
            )
        if keyword == "minLength":
            if expected == 1:
                return f"{field} should not be empty", f"send a non-empty {field}"
            return f"{field} must be longer than or equal to {expected} characters", ""
        if keyword == "maxLength":
            return f"{field} must be shorter than or equal to {expected} characters", f"shorten {field}"
        if keyword == "enum":
            allowed = [v for v in expected if v is not None]
            listed = ", ".join(map(str, allowed))
            return f"{field} must be one of the following values: {listed}", f"use one of: {listed}"
        if keyword == "pattern":
            return f"{field} must match {expected} regular expression", f"send a value matching {expected}"
        if keyword == "format":
            word = {"uri": "a URL address", "uuid": "a UUID", "date-time": "an ISO 8601 date string"}.get(
                str(expected), f"a valid {expected}"
            )
            return f"{field} must be {word}", f"send {word}"
        if keyword == "const":
            return f"{field} must be {expected!r}", f"send {expected!r} or leave {field} out"
        if keyword in ("oneOf", "anyOf"):
            return f"{field} matches none of the allowed shapes", "check the field against the contract's schema"
        return f"{field}: {error.message}", f"check {field} against the contract's schema"

    def _range_hint(self, error: ValidationError, field: str) -> str:
        schema = error.schema if isinstance(error.schema, dict) else {}
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"send {field} from {low} to {high}"
        return ""


def _missing_property(error: ValidationError) -> str:
    # jsonschema's message is "'prompt' is a required property"; the missing name is the quoted part.
    required = error.validator_value if isinstance(error.validator_value, list) else []
    present = error.instance if isinstance(error.instance, dict) else {}
    missing = [name for name in required if name not in present]
    return str(missing[0]) if missing else "?"


def _allows_integer(prop: dict[str, Any]) -> bool:
    kind = prop.get("type")
    return kind == "integer" or (isinstance(kind, list) and "integer" in kind)
