"""One recorded answer compared with a reference answer to the same request in the same state.

The reference is the mock's answer (``flux-mock drift FILE.har``: the mock's job put in the state the recording
showed) or the older recording's (``flux-mock drift OLD.har NEW.har``). Values that differ by nature (ids,
timestamps, URLs, progress figures) are not compared; keys, JSON types, the HTTP status, error texts and headers
are. Whether the recorded answer keeps its schema is judged on its own (`contracts.drift.recording`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.drift.findings import Finding, finding
from contracts.drift.shapes import Shape, escape, inferred, json_kind, schema_of
from mock_server import HarEntry

VOLATILE = frozenset(
    {
        "date",
        "server",
        "content-length",
        "etag",
        "age",
        "via",
        "x-request-id",
        "set-cookie",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-encoding",
        "cf-ray",
        "cf-cache-status",
        "alt-svc",
        "nel",
        "report-to",
        "strict-transport-security",
        "vary",
        "x-flux-mock-violations",
    }
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer as compared: status, parsed JSON body (None when not JSON) and headers."""

    status: int
    body: Any
    headers: tuple[tuple[str, str], ...]

    @classmethod
    def recorded(cls, entry: HarEntry) -> Answer:
        return cls(entry.status, entry.response_json(), entry.response_headers)

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        try:
            body = response.json()
        except ValueError:
            body = None
        return cls(response.status_code, body, tuple(response.headers.multi_items()))


@dataclass
class _Walk:
    request: str
    shape: Shape | None
    found: list[Finding] = field(default_factory=list)

    def add(self, kind: str, parts: Sequence[str], recorded: Any, reference: Any, message: str, rule: str = "") -> None:
        pointer = "".join("/" + escape(p) for p in parts)
        where = self.shape.at(parts)[0] if self.shape is not None else ""
        rule = rule or where
        parent = self.shape.at(parts[:-1])[0] if self.shape is not None and parts else rule
        # A key's presence is governed by its parent's `required`, so the parent's x-inferred counts for it.
        guessed = inferred(rule, parent) if kind in ("field-added", "field-removed") else inferred(rule)
        self.found.append(finding(kind, self.request, pointer, recorded, reference, rule, guessed, message))

    def walk(self, recorded: Any, reference: Any, parts: list[str], against: str) -> None:
        if json_kind(recorded) != json_kind(reference):
            sent = f"the upstream sent {json_kind(recorded)}, {against} {json_kind(reference)}"
            self.add("type-changed", parts, recorded, reference, sent)
        elif isinstance(recorded, dict):
            for key in sorted(set(reference) - set(recorded)):
                self.add("field-removed", [*parts, key], None, reference[key], f"the upstream left out {key!r}")
            for key in sorted(set(recorded) - set(reference)):
                self.add("field-added", [*parts, key], recorded[key], None, f"the upstream added {key!r}")
            for key in sorted(set(recorded) & set(reference)):
                self.walk(recorded[key], reference[key], [*parts, key], against)
        elif isinstance(recorded, list) and recorded and reference:
            self.walk(recorded[0], reference[0], [*parts, "0"], against)


def compare(
    request: str,
    operation_id: str | None,
    route: tuple[str, str],
    recorded: Answer,
    reference: Answer,
    *,
    against: str = "the mock",
) -> list[Finding]:
    """Every difference between `recorded` and `reference` (the answers to `route`, ``(method, path template)``)."""
    method, template = route
    shape = schema_of(operation_id, recorded.status) if operation_id else None
    check = _Walk(request, shape)
    if recorded.status != reference.status:
        base = f"#/paths/{escape(template)}/{method.lower()}"
        rule = f"{base}/responses/{recorded.status}" if shape else f"{base}/responses"
        said = f"the upstream answered {recorded.status}, {against} {reference.status}"
        check.add("status", [], recorded.status, reference.status, said, rule)
    elif isinstance(recorded.body, dict | list) and isinstance(reference.body, dict | list):
        check.walk(recorded.body, reference.body, [], against)
        _error_text(check, recorded, reference)
    _headers(check, recorded, reference)
    return check.found


def _error_text(check: _Walk, recorded: Answer, reference: Answer) -> None:
    theirs, ours = recorded.body, reference.body
    if recorded.status < 400 or not isinstance(theirs, dict) or not isinstance(ours, dict):
        return
    if "message" in theirs and "message" in ours and _words(theirs["message"]) != _words(ours["message"]):
        check.add("error-text", ["message"], theirs["message"], ours["message"], "the error message differs")


def _words(message: Any) -> str:
    # The same text about another job is the same text: each side names its own messageIds.
    return _UUID.sub("<id>", json.dumps(message, ensure_ascii=False))


def _headers(check: _Walk, recorded: Answer, reference: Answer) -> None:
    theirs = {k.lower(): v for k, v in recorded.headers if k.lower() not in VOLATILE}
    ours = {k.lower(): v for k, v in reference.headers if k.lower() not in VOLATILE}
    for name in sorted(set(theirs) | set(ours)):
        mine, upstream = ours.get(name), theirs.get(name)
        if name == "content-type" and mine and upstream:
            mine, upstream = mine.split(";")[0].strip(), upstream.split(";")[0].strip()
        if mine != upstream:
            check.add("header", [], upstream, mine, f"header {name} differs", f"header:{name}")
