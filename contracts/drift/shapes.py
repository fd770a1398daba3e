"""Where an answer's schema is in openapi.yaml: the JSON pointer of each body field's rule, and whether it is inferred.

Every drift finding names the rule involved as a pointer into the document (``#/components/schemas/Message/
properties/images``) and says whether that rule is ``x-inferred`` (the mock's guess, not documented), so a finding
on an inferred rule is a reason to revisit the contract, not the upstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from contracts.core.schema import contract


def escape(text: str) -> str:
    """A JSON pointer token: ``/`` and ``~`` escaped."""
    return text.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The inverse of `escape`."""
    return token.replace("~1", "/").replace("~0", "~")


def inferred(*pointers: str) -> bool:
    """Whether any of the nodes at `pointers` carries ``x-inferred``."""
    document = contract().document
    for pointer in pointers:
        node: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            node = node.get(unescape(part), {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and "x-inferred" in node:
            return True
    return False


def _follow(node: Any, pointer: str) -> tuple[Any, str]:
    spec = contract()
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"]
        node = spec.pointer(pointer)
    return node, pointer


@dataclass(frozen=True, slots=True)
class Shape:
    """One answer's schema: its document pointer and the resolved node, walked per body pointer."""

    root: str
    node: Any

    def at(self, parts: Sequence[str]) -> tuple[str, Any]:
        """The pointer and node of the rule for the body field at `parts` (keys and list indexes)."""
        pointer, node = self.root, self.node
        for part in parts:
            node, pointer = _follow(node, pointer)
            if isinstance(node, dict) and "properties" in node:
                pointer, node = f"{pointer}/properties/{escape(part)}", node["properties"].get(part, {})
            elif isinstance(node, dict) and "items" in node:
                pointer, node = f"{pointer}/items", node["items"]
            else:
                pointer, node = f"{pointer}/{escape(part)}", {}
        node, pointer = _follow(node, pointer)
        return pointer, node


def schema_of(operation_id: str, status: int) -> Shape | None:
    """The JSON schema of `operation_id`'s answer with `status` (or its ``default``); None when it has none."""
    op = contract().operation(operation_id)
    key = str(status) if str(status) in op.responses else "default"
    base = f"#/paths/{escape(op.path)}/{op.method.lower()}/responses/{key}"
    response, pointer = _follow(op.responses.get(key), base)
    if not isinstance(response, dict):
        return None
    media = response.get("content", {}).get("application/json", {})
    if "schema" not in media:
        return None
    node, pointer = _follow(media["schema"], f"{pointer}/content/application~1json/schema")
    return Shape(pointer, node)


def json_kind(value: Any) -> str:
    """The JSON type of a parsed value: object, array, string, number, boolean or null."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(type(value), type(value).__name__)
