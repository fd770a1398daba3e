"""Load openapi.yaml once and index what the mock needs from it.

The same file is the root ``openapi.yaml`` in a source checkout and
``mock_server/openapi.yaml`` in an installed wheel (a build include), so the mock and the
contract kit always read the one contract.
"""

from __future__ import annotations

import contextlib
import functools
import marshal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mock_server.contract import cache
from mock_server.contract.errors import SpecError
from mock_server.contract.prices import EXTENSION, Price, parse_price

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ROLES = ("create", "poll", "read")  # the first half of `x-mock-kind`
# Where the admin API (admin_openapi.yaml, whose server URL ends with it) is mounted; kept out of the API's own
# journal, replay and rate limits. Every other module imports this one.
ADMIN_PREFIX = "/__mock"


def spec_path() -> Path:
    """Path of the contract: the packaged copy if installed, else the repository root's."""
    packaged = Path(str(resources.files("mock_server"))) / "openapi.yaml"
    if packaged.is_file():
        return packaged
    root = Path(__file__).resolve().parents[2] / "openapi.yaml"
    if root.is_file():
        return root
    raise SpecError(f"openapi.yaml not found at {packaged} or {root}; reinstall flux-mock.")


@dataclass(frozen=True, slots=True)
class Bounds:
    """An integer setting's range and default, as a schema of the contract states them."""

    minimum: int
    maximum: int
    default: int


@dataclass(frozen=True, slots=True)
class Operation:
    """One documented operation, with its schemas resolved (no $ref left)."""

    operation_id: str
    method: str  # upper case
    path: str  # OpenAPI template, e.g. /api/v1/message/fetch/{messageId}
    request_schema: dict[str, Any] | None
    path_parameters: dict[str, dict[str, Any]]
    responses: Mapping[str, Any]
    query_parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    role: str = "read"  # from x-mock-kind: create, poll or read
    job_kind: str | None = None  # for a create: the kind of job it starts (imagine, upscale, ...)


class Spec:
    """A loaded OpenAPI document with `$ref`s resolved on demand."""

    def __init__(self, document: dict[str, Any], source: str = "<dict>", *, kinds: bool = True) -> None:
        """Index `document`; with `kinds`, every operation must say what it is in ``x-mock-kind``."""
        if not isinstance(document, dict) or "paths" not in document:
            raise SpecError(f"{source} is not an OpenAPI document (no 'paths').")
        self.document = document
        self.source = source
        self._kinds = kinds
        self.operations: dict[str, Operation] = {op.operation_id: op for op in self._walk()}

    def resolve(self, node: Any) -> Any:
        """Return `node` with every local `$ref` inlined (the contract has no cycles)."""
        if isinstance(node, dict):
            if "$ref" in node:
                return self.resolve(self.pointer(node["$ref"]))
            return {key: self.resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        return node

    def pointer(self, ref: str) -> Any:
        """Follow a local reference such as ``#/components/schemas/Message``."""
        if not ref.startswith("#/"):
            raise SpecError(f"Only local $refs are supported, got {ref!r} in {self.source}.")
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[part]
            except (KeyError, TypeError):
                raise SpecError(f"$ref {ref!r} does not resolve in {self.source}.") from None
        return node

    def schema(self, name: str) -> dict[str, Any]:
        """A component schema by name, resolved."""
        schema: dict[str, Any] = self.resolve(self.pointer(f"#/components/schemas/{name}"))
        return schema

    def operation(self, operation_id: str) -> Operation:
        """An operation by its operationId."""
        try:
            return self.operations[operation_id]
        except KeyError:
            known = ", ".join(sorted(self.operations))
            raise SpecError(f"{self.source} has no operation {operation_id!r}; it has: {known}.") from None

    def price(self, operation_id: str) -> Price | None:
        """What one job of `operation_id` costs (its ``x-credits``, see `prices`); None when the contract is silent."""
        op = self.operation(operation_id)
        raw = self.document["paths"][op.path][op.method.lower()].get(EXTENSION)
        return None if raw is None else parse_price(raw, f"{op.method} {op.path} ({operation_id}) in {self.source}")

    def by_role(self, role: str) -> list[Operation]:
        """The operations of one `x-mock-kind` role (create, poll, read), in document order."""
        return [op for op in self.operations.values() if op.role == role]

    @property
    def image_path(self) -> str:
        """The path prefix finished images are served under (``x-mock-downloads.images`` without ``/{name}``)."""
        template = str(self.document.get("info", {}).get("x-mock-downloads", {}).get("images", ""))
        if not template.endswith("/{name}"):
            raise SpecError(f"{self.source}: info.x-mock-downloads.images must be a path ending in /{{name}}.")
        return template.removesuffix("/{name}")

    @property
    def timeout(self) -> Bounds:
        """A job's ``timeout`` in seconds (``components/schemas/Timeout``): its range and the API's default."""
        schema = self.schema("Timeout")
        try:
            return Bounds(int(schema["minimum"]), int(schema["maximum"]), int(schema["default"]))
        except (KeyError, TypeError, ValueError):
            raise SpecError(f"{self.source}: components/schemas/Timeout needs minimum, maximum and default.") from None

    @property
    def status_enum(self) -> list[str]:
        """The Message status values the contract allows."""
        return list(self.schema("Message")["properties"]["status"]["enum"])

    def _walk(self) -> Iterator[Operation]:
        for path, item in self.document["paths"].items():
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                raw = item.get(method)
                if raw is None:
                    continue
                if "operationId" not in raw:
                    raise SpecError(f"{method.upper()} {path} in {self.source} has no operationId.")
                params = [self.resolve(p) for p in [*shared, *raw.get("parameters", [])]]
                body = self.resolve(raw.get("requestBody", {}))
                schema = body.get("content", {}).get("application/json", {}).get("schema")
                role, job_kind = self._kind(method, path, raw)
                yield Operation(
                    operation_id=raw["operationId"],
                    method=method.upper(),
                    path=path,
                    request_schema=schema,
                    path_parameters={p["name"]: p["schema"] for p in params if p.get("in") == "path"},
                    responses=raw.get("responses", {}),
                    role=role,
                    job_kind=job_kind,
                    query_parameters={p["name"]: p["schema"] for p in params if p.get("in") == "query"},
                )

    def _kind(self, method: str, path: str, raw: dict[str, Any]) -> tuple[str, str | None]:
        text = raw.get("x-mock-kind")
        if text is None and not self._kinds:
            return "read", None
        where = f"{method.upper()} {path} ({raw.get('operationId')}) in {self.source}"
        if not isinstance(text, str):
            raise SpecError(f"{where} has no x-mock-kind; give it one of create:<job kind>, poll, read.")
        role, _, job_kind = text.partition(":")
        if role not in ROLES or (role == "create") != bool(job_kind):
            raise SpecError(f"{where}: x-mock-kind {text!r} must be create:<job kind>, poll or read.")
        return role, job_kind or None


def load_document(path: Path | str | None = None) -> dict[str, Any]:
    """Parse a YAML/JSON OpenAPI file into a dict (from the on-disk cache when these exact bytes were parsed before)."""
    target = Path(path) if path is not None else spec_path()
    try:
        text = target.read_bytes()
    except OSError as exc:
        raise SpecError(f"Cannot read {target}: {exc.strerror}.") from None
    name = cache.entry_name("document", text)
    document = cache.read_value(name, dict)
    if document is None:
        document = _parse(text, target)
        with contextlib.suppress(ValueError):  # e.g. a YAML timestamp, which marshal cannot hold: not cached
            cache.write(name, marshal.dumps(document))
    return document


def _parse(text: bytes, target: Path) -> dict[str, Any]:
    import yaml  # only when the cache has no parse of these bytes

    # libyaml's safe loader parses openapi.yaml about 10x faster than the pure-Python one.
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(text, Loader=loader)  # a safe loader (libyaml's when present)
    except yaml.YAMLError as exc:
        raise SpecError(f"{target} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise SpecError(f"{target} does not hold a mapping.")
    return document


@functools.lru_cache(maxsize=8)
def load_spec(path: str | None = None) -> Spec:
    """Load and index the contract (cached per path)."""
    target = Path(path) if path is not None else spec_path()
    return Spec(load_document(target), source=str(target))


def job_timeout() -> Bounds:
    """The packaged contract's job timeout: what a job without a ``timeout`` field gets, and the allowed range."""
    return load_spec().timeout
