"""One place that turns openapi.yaml into what the contract kit needs.

- `contract()` is the mock's own cached loader (`mock_server.load_spec`), so the kit and the
  mock always read the same file.
- `validator_for(name)` gives a JSON Schema (2020-12) validator with format checks for a
  component schema (``Message``, ``CreateResponse``, ``Error``, ...) or for the 3.1
  ``webhooks`` section (``webhook:messageUpdate``), resolved with `referencing` against the whole
  document, so ``$ref``s work exactly as written.
- `load_schema(...)` builds a schemathesis schema for a URL or an in-process ASGI app.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from mock_server import Spec, load_spec

if TYPE_CHECKING:
    from schemathesis.schemas import BaseSchema

_URN = "urn:flux-mock:openapi"
WEBHOOK_PREFIX = "webhook:"
# Where generated webhook bodies come from: schemathesis ignores the 3.1 `webhooks` section, so a
# private copy of the document exposes each webhook as a POST operation under this prefix.
WEBHOOK_PATH_PREFIX = "/__webhooks__/"


def contract(path: str | None = None) -> Spec:
    """The loaded contract (the mock's cached loader; `path` None means the packaged openapi.yaml)."""
    # load_spec() and load_spec(None) are different lru_cache keys: call it as the mock does.
    return load_spec() if path is None else load_spec(path)


def operation_ids(role: str) -> frozenset[str]:
    """The operationIds of one ``x-mock-kind`` role of openapi.yaml: ``create``, ``poll`` or ``read``."""
    return frozenset(op.operation_id for op in contract().by_role(role))


@functools.cache
def _poll_patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile("^" + re.escape(op.path).replace(re.escape("{messageId}"), "[^/]+") + "$")
        for op in contract().by_role("poll")
    )


def is_poll_path(path: str) -> bool:
    """Whether `path` is one of the spec's poll paths (x-mock-kind ``poll``), whatever its messageId."""
    return any(pattern.match(path) for pattern in _poll_patterns())


def document(path: str | None = None) -> dict[str, Any]:
    """A private deep copy of the OpenAPI document, safe to modify."""
    return copy.deepcopy(contract(path).document)


def schema_pointer(name: str) -> str:
    """The JSON Pointer of a named schema: a component name, or ``webhook:<name>`` for the webhooks section."""
    if name.startswith(WEBHOOK_PREFIX):
        hook = name[len(WEBHOOK_PREFIX) :]
        return f"#/webhooks/{hook}/post/requestBody/content/application~1json/schema"
    return f"#/components/schemas/{name}"


def schema_names(path: str | None = None) -> list[str]:
    """Every name `validator_for` accepts: the component schemas, then ``webhook:<name>`` per webhook."""
    doc = contract(path).document
    hooks = [f"{WEBHOOK_PREFIX}{name}" for name in doc.get("webhooks", {})]
    return [*doc.get("components", {}).get("schemas", {}), *hooks]


@functools.cache
def _registry(path: str | None) -> Registry[Any]:
    resource = Resource.from_contents(contract(path).document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(_URN, resource)
    return registry


@functools.cache
def validator_for(name: str, path: str | None = None) -> Draft202012Validator:
    """A cached validator for a named schema (see `schema_names`), checking formats (uuid, uri, date-time).

    Example:
        validator_for("webhook:messageUpdate").is_valid(payload)
    """
    known = schema_names(path)
    if name not in known:
        raise ValueError(f"Unknown schema {name!r}; the contract has: {', '.join(known)}.")
    return _validator_at(schema_pointer(name), path)


@functools.cache
def _validator_at(pointer: str, path: str | None = None) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": _URN + pointer}, registry=_registry(path), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One schema violation: where (JSON Pointer), which keyword, and jsonschema's sentence."""

    pointer: str
    keyword: str
    message: str
    value: Any


def _pointer(parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def schema_errors(name: str, instance: Any, path: str | None = None) -> list[SchemaError]:
    """Every violation of schema `name` by `instance`, in document order; empty when valid."""
    return _errors(validator_for(name, path), instance)


def schema_errors_at(pointer: str, instance: Any, path: str | None = None) -> list[SchemaError]:
    """Every violation of the schema at a JSON pointer into the document (``#/paths/...``, inline schemas too)."""
    return _errors(_validator_at("#" + pointer.removeprefix("#"), path), instance)


def _errors(validator: Draft202012Validator, instance: Any) -> list[SchemaError]:
    errors = validator.iter_errors(instance)
    found = [SchemaError(_pointer(e.absolute_path), str(e.validator), e.message, e.instance) for e in errors]
    return sorted(found, key=lambda e: (e.pointer, e.keyword))


def is_loopback(url: str) -> bool:
    """True when `url` points at this machine (127.0.0.0/8, ::1 or localhost)."""
    import ipaddress
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# flux-mock refuses request bodies over 1 MiB (the spec's PayloadTooLarge, x-inferred); real servers have limits too.
BODY_LIMIT = 1_048_576


def drop_unreachable_bounds(node: Any, limit: int = BODY_LIMIT) -> list[str]:
    """Remove, in place, every ``maxLength``/``maxItems`` of `limit` or more from a document; the paths removed.

    A string of ``maxLength`` characters, in a body, is over the body limit, so the bound can never be exercised
    (its value is answered 413 before any rule is read) and fuzzing its boundary only builds megabyte strings
    (ButtonRequest.mask: 1 MiB). Without the bound, generated values stay short.
    """
    removed: list[str] = []

    def walk(item: Any, where: str) -> None:
        if isinstance(item, dict):
            for key in ("maxLength", "maxItems"):
                bound = item.get(key)
                if isinstance(bound, int) and not isinstance(bound, bool) and bound >= limit:
                    del item[key]
                    removed.append(f"{where}/{key}")
            for key, value in item.items():
                walk(value, f"{where}/{key}")
        elif isinstance(item, list):
            for index, value in enumerate(item):
                walk(value, f"{where}/{index}")

    walk(node, "#")
    return removed


# Above this maxLength, a `pattern` costs schemathesis' coverage phase a value of that length built to match it:
# ButtonRequest.mask (maxLength 700,000) took 12 s and 1.4 GB of native memory per operation (schemathesis 4.32).
COSTLY_PATTERN_LENGTH = 10_000


def drop_costly_bounds(node: Any, length: int = COSTLY_PATTERN_LENGTH) -> list[str]:
    """Remove, in place, the ``maxLength`` of every string schema with a ``pattern`` and a bound of `length` or more.

    Fuzzing keeps the pattern (valid values still match it, invalid ones still break it) and draws short values;
    the length bound itself is held by the kit's probes (one body breaking each rule, e.g. ``mjButton
    mask.maxLength``).
    """
    removed: list[str] = []

    def walk(item: Any, where: str) -> None:
        if isinstance(item, dict):
            bound = item.get("maxLength")
            if "pattern" in item and isinstance(bound, int) and not isinstance(bound, bool) and bound >= length:
                del item["maxLength"]
                removed.append(f"{where}/maxLength")
            for key, value in item.items():
                walk(value, f"{where}/{key}")
        elif isinstance(item, list):
            for index, value in enumerate(item):
                walk(value, f"{where}/{index}")

    walk(node, "#")
    return removed


def load_schema(
    *,
    base_url: str | None = None,
    app: Any = None,
    config: dict[str, Any] | None = None,
    webhooks_as_paths: bool = False,
    path: str | None = None,
    reachable_only: bool = False,
) -> BaseSchema:
    """A schemathesis schema of the contract, pointed at a URL or at an in-process ASGI app.

    Args:
        base_url: the server to test, e.g. ``http://127.0.0.1:8080``.
        app: an ASGI app to call in-process instead of a URL (e.g. `mock_server.create_app()`).
        config: schemathesis configuration as a dict (the keys of ``schemathesis.toml``).
        webhooks_as_paths: also expose each 3.1 webhook as ``POST /__webhooks__/<name>`` so
            schemathesis can generate webhook bodies (it ignores the ``webhooks`` section).
        path: a different openapi.yaml (default: the packaged contract).
        reachable_only: drop length bounds no request within the body limit can reach (`drop_unreachable_bounds`)
            and long bounds of patterned strings (`drop_costly_bounds`), so generated cases stay small; what
            ``flux-mock check`` fuzzes.

    Example:
        schema = load_schema(base_url="http://127.0.0.1:8080",
                             config={"auth": {"openapi": {"bearerAuth": {"bearer": "sk-test"}}}})
    """
    import schemathesis

    raw = document(path)
    if reachable_only:
        drop_unreachable_bounds(raw)
        drop_costly_bounds(raw)
    if webhooks_as_paths:
        for name, item in raw.get("webhooks", {}).items():
            raw["paths"][WEBHOOK_PATH_PREFIX + name] = {
                method: dict(operation, security=[]) for method, operation in item.items()
            }
    settings = dict(config or {})
    if base_url is not None:
        settings["base-url"] = base_url.rstrip("/")
    schema = schemathesis.openapi.from_dict(raw, config=schemathesis.Config.from_dict(settings))
    if app is not None:
        schema.app = app
    return schema
