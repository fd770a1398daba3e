"""``flux-mock drift FILE.har``: replay a recording against the mock and say, answer by answer, where they differ.

The recorded requests are sent to an in-process mock on a `VirtualClock` that follows the recorded arrival times,
so jobs are as far along as they were when recorded. The upstream's messageIds are mapped to the mock's as
creates are answered, so polls and image downloads of a recorded job reach the mock's twin of it.

Findings are typed (`KINDS`), carry a severity, name the openapi.yaml rule involved (a JSON pointer into the
document) and say whether that rule is ``x-inferred`` (the mock's guess, not documented), so a drift on an
inferred rule is a reason to revisit the contract, not the upstream. Values that differ by nature (ids,
timestamps, URLs, progress figures) are not compared; their shapes and enums are.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from contracts.core.schema import contract, schema_errors
from mock_server import HarEntry, Settings, VirtualClock, create_app, option, setting_option

KINDS: dict[str, str] = {
    "status": "error",
    "field-removed": "error",
    "type-changed": "error",
    "enum-not-in-spec": "error",
    "rule-broken": "error",
    "field-added": "warning",
    "error-text": "warning",
    "lifecycle": "warning",
    "header": "info",
}
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
_COVERED = frozenset({"enum", "type", "required", "additionalProperties"})  # reported by their own kinds


SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, slots=True)
class DriftOptions:
    """What ``flux-mock drift`` takes besides the recording."""

    job_seconds: float = field(
        default=3.0,
        metadata=setting_option(
            "job_seconds", "How long a job takes on the in-process mock the recording is replayed against."
        ),
    )
    seed: int = field(default=0, metadata=setting_option("seed"))
    as_json: bool = field(
        default=False, metadata=option("Print the findings as JSON instead of a table.", flag="--json")
    )
    fail_on: frozenset[str] = field(
        default=frozenset({"error", "warning"}),
        metadata=option(
            "Comma-separated severities (error, warning, info) that make the exit code 1.",
            metavar="SEVERITIES",
            separator=",",
            choices=SEVERITIES,
        ),
    )


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference between the recorded answer and the mock's."""

    kind: str
    severity: str
    request: str  # e.g. "#4 GET /api/v1/message/fetch/{messageId}"
    pointer: str
    recorded: Any
    mock: Any
    rule: str  # JSON pointer into openapi.yaml, e.g. #/components/schemas/Message/properties/images
    inferred: bool
    message: str


def _inferred(*pointers: str) -> bool:
    document = contract().document
    for pointer in pointers:
        node: Any = document
        for part in pointer.removeprefix("#/").split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and "x-inferred" in node:
            return True
    return False


def _follow(node: Any, pointer: str) -> tuple[Any, str]:
    spec = contract()
    while isinstance(node, dict) and "$ref" in node:
        pointer = node["$ref"]
        node = spec.pointer(pointer)
    return node, pointer


def _escape(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


@dataclass
class _Shape:
    """Where one answer's schema is: its document pointer and the resolved node, walked per body pointer."""

    root: str
    node: Any

    def at(self, parts: Sequence[str]) -> tuple[str, Any]:
        pointer, node = self.root, self.node
        for part in parts:
            node, pointer = _follow(node, pointer)
            if isinstance(node, dict) and "properties" in node:
                pointer, node = f"{pointer}/properties/{_escape(part)}", node["properties"].get(part, {})
            elif isinstance(node, dict) and "items" in node:
                pointer, node = f"{pointer}/items", node["items"]
            else:
                pointer, node = f"{pointer}/{_escape(part)}", {}
        node, pointer = _follow(node, pointer)
        return pointer, node


def _schema_of(operation_id: str, status: int) -> _Shape | None:
    op = contract().operation(operation_id)
    key = str(status) if str(status) in op.responses else "default"
    base = f"#/paths/{_escape(op.path)}/{op.method.lower()}/responses/{key}"
    response, pointer = _follow(op.responses.get(key), base)
    if not isinstance(response, dict):
        return None
    media = response.get("content", {}).get("application/json", {})
    if "schema" not in media:
        return None
    node, pointer = _follow(media["schema"], f"{pointer}/content/application~1json/schema")
    return _Shape(pointer, node)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object", type(None): "null"}.get(type(value), type(value).__name__)


@dataclass
class _Compare:
    request: str
    shape: _Shape | None
    found: list[Finding] = field(default_factory=list)

    def add(self, kind: str, parts: Sequence[str], recorded: Any, mock: Any, message: str, rule: str = "") -> None:
        pointer = "".join("/" + _escape(p) for p in parts)
        where, _ = self.shape.at(parts) if self.shape is not None else ("", None)
        rule = rule or where
        parent = self.shape.at(parts[:-1])[0] if self.shape is not None and parts else rule
        # A key's presence is governed by its parent's `required`, so the parent's x-inferred counts for it.
        inferred = _inferred(rule, parent) if kind in ("field-added", "field-removed") else _inferred(rule)
        self.found.append(Finding(kind, KINDS[kind], self.request, pointer, recorded, mock, rule, inferred, message))

    def walk(self, recorded: Any, mock: Any, parts: list[str]) -> None:
        if self.shape is not None and not isinstance(recorded, dict | list):
            where, node = self.shape.at(parts)
            if isinstance(node, dict) and "enum" in node and recorded not in node["enum"]:
                allowed = ", ".join(map(str, node["enum"]))
                self.add(
                    "enum-not-in-spec", parts, recorded, mock, f"{recorded!r} is not one of {allowed}", f"{where}/enum"
                )
                return
        if _kind(recorded) != _kind(mock):
            self.add(
                "type-changed", parts, recorded, mock, f"the upstream sent {_kind(recorded)}, the mock {_kind(mock)}"
            )
        elif isinstance(recorded, dict):
            for key in sorted(set(mock) - set(recorded)):
                self.add("field-removed", [*parts, key], None, mock[key], f"the upstream left out {key!r}")
            for key in sorted(set(recorded) - set(mock)):
                self.add("field-added", [*parts, key], recorded[key], None, f"the upstream added {key!r}")
            for key in sorted(set(recorded) & set(mock)):
                self.walk(recorded[key], mock[key], [*parts, key])
        elif isinstance(recorded, list) and recorded and mock:
            self.walk(recorded[0], mock[0], [*parts, "0"])


@dataclass
class _Job:
    created: float
    recorded: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    mock: list[tuple[float, dict[str, Any]]] = field(default_factory=list)


def _shape_of(polls: list[tuple[float, dict[str, Any]]], created: float) -> dict[str, Any]:
    statuses: list[Any] = []
    for _, body in polls:
        if not statuses or statuses[-1] != body.get("status"):
            statuses.append(body.get("status"))
    steps = len({body.get("progress") for _, body in polls})
    done = next((at - created for at, body in polls if body.get("status") in ("DONE", "FAIL")), None)
    return {"statuses": statuses, "progress steps": steps, "seconds to final": None if done is None else round(done, 1)}


class DriftRun:
    """Replays recorded entries against an in-process mock and collects findings."""

    def __init__(self, entries: Sequence[HarEntry], *, job_seconds: float = 3.0, seed: int = 0) -> None:
        self.entries = list(entries)
        start = self.entries[0].started if self.entries else 1_700_000_000.0
        self.clock = VirtualClock(start=start)
        settings = Settings(job_seconds=job_seconds, seed=seed, webhook_transport="record")
        self.app = create_app(settings, clock=self.clock)
        self.ops = self.app.state.services.operations
        self.ids: dict[str, str] = {}
        self.jobs: dict[str, _Job] = {}
        self.findings: list[Finding] = []

    def _mapped(self, text: str) -> str:
        for recorded, mine in self.ids.items():
            text = text.replace(recorded, mine)
        return text

    async def run(self) -> list[Finding]:
        """Send every entry in recorded order, the clock moved to its arrival time first."""
        transport = httpx.ASGITransport(self.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
            for index, entry in enumerate(self.entries, start=1):
                if entry.started > self.clock.now():
                    self.clock.advance(entry.started - self.clock.now())
                headers = [(k, v) for k, v in entry.request_headers if k.lower() not in VOLATILE | {"host"}]
                # The recording's key was redacted (and is the upstream's); the mock accepts any Bearer key.
                headers = [
                    (k, "Bearer sk-flux-mock-drift") if k.lower() == "authorization" else (k, v) for k, v in headers
                ]
                path = self._mapped(entry.path) + (f"?{entry.query}" if entry.query else "")
                answer = await client.request(entry.method, path, headers=headers, content=self._mapped_body(entry))
                self._compare(index, entry, answer)
        self._lifecycles()
        return self.findings

    def _mapped_body(self, entry: HarEntry) -> bytes:
        return self._mapped(entry.request_body.decode("utf-8", "replace")).encode() if entry.request_body else b""

    def _compare(self, index: int, entry: HarEntry, answer: httpx.Response) -> None:
        op = self.ops.classify(entry.method, entry.path)
        template = contract().operation(op.operation_id).path if op.operation_id else entry.path
        request = f"#{index} {entry.method} {template}"
        recorded, mock = entry.response_json(), _json(answer)
        shape = _schema_of(op.operation_id, entry.status) if op.operation_id else None
        check = _Compare(request, shape)
        if entry.status != answer.status_code:
            base = f"#/paths/{_escape(template)}/{entry.method.lower()}"
            rule = f"{base}/responses/{entry.status}" if shape else f"{base}/responses"
            check.add(
                "status",
                [],
                entry.status,
                answer.status_code,
                f"the upstream answered {entry.status}, the mock {answer.status_code}",
                rule,
            )
        elif isinstance(recorded, dict | list) and isinstance(mock, dict | list):
            check.walk(recorded, mock, [])
            both = isinstance(recorded, dict) and isinstance(mock, dict) and "message" in recorded and "message" in mock
            if entry.status >= 400 and both and recorded["message"] != mock["message"]:  # type: ignore[call-overload]
                check.add(
                    "error-text",
                    ["message"],
                    recorded["message"],  # type: ignore[call-overload]
                    mock["message"],  # type: ignore[call-overload]
                    "the error message differs",
                )
            if shape is not None:
                for error in schema_errors(shape.root.rsplit("/", 1)[-1], recorded):
                    if error.keyword not in _COVERED:
                        parts = [p.replace("~1", "/").replace("~0", "~") for p in error.pointer.split("/")[1:]]
                        where, _ = shape.at(parts)
                        check.add("rule-broken", parts, error.value, None, error.message, f"{where}/{error.keyword}")
        self._headers(check, entry, answer)
        self.findings += check.found
        self._note_job(op.role, entry, recorded, mock)

    def _headers(self, check: _Compare, entry: HarEntry, answer: httpx.Response) -> None:
        recorded = {k.lower(): v for k, v in entry.response_headers if k.lower() not in VOLATILE}
        mock = {k.lower(): v for k, v in answer.headers.items() if k.lower() not in VOLATILE}
        for name in sorted(set(recorded) | set(mock)):
            ours, theirs = mock.get(name), recorded.get(name)
            if name == "content-type" and ours and theirs:
                ours, theirs = ours.split(";")[0].strip(), theirs.split(";")[0].strip()
            if ours != theirs:
                check.add("header", [], theirs, ours, f"header {name} differs", f"header:{name}")

    def _note_job(self, role: str, entry: HarEntry, recorded: Any, mock: Any) -> None:
        if role == "create" and isinstance(recorded, dict) and isinstance(mock, dict):
            theirs, ours = recorded.get("messageId"), mock.get("messageId")
            if isinstance(theirs, str) and isinstance(ours, str):
                self.ids[theirs] = ours
                self.jobs[theirs] = _Job(entry.started)
        elif role == "poll" and isinstance(recorded, dict) and isinstance(mock, dict):
            job = self.jobs.get(str(recorded.get("messageId")))
            if job is not None:
                job.recorded.append((entry.started, recorded))
                job.mock.append((entry.started, mock))

    def _lifecycles(self) -> None:
        rule = "#/components/schemas/Message/properties/status"
        for message_id, job in self.jobs.items():
            theirs, ours = _shape_of(job.recorded, job.created), _shape_of(job.mock, job.created)
            for key in theirs:
                if theirs[key] != ours[key]:
                    self.findings.append(
                        Finding(
                            "lifecycle",
                            KINDS["lifecycle"],
                            f"job {message_id}",
                            f"/{key}",
                            theirs[key],
                            ours[key],
                            rule,
                            _inferred(rule),
                            f"{key} differ over the job's polls",
                        )
                    )


def _json(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def drift(entries: Sequence[HarEntry], *, job_seconds: float = 3.0, seed: int = 0) -> list[Finding]:
    """Every finding of replaying `entries` (a `load_har` result) against the mock; empty when they agree."""
    return asyncio.run(DriftRun(entries, job_seconds=job_seconds, seed=seed).run())


def render_table(findings: Sequence[Finding]) -> str:
    """A readable table, one finding a row."""
    if not findings:
        return "No drift: every recorded answer matches the mock's."
    rows: list[tuple[str, ...]] = [("severity", "kind", "request", "pointer", "recorded", "mock", "rule", "inferred")]
    for f in findings:
        shown = [json.dumps(v, default=str)[:40] for v in (f.recorded, f.mock)]
        rows.append((f.severity, f.kind, f.request, f.pointer or "/", *shown, f.rule, "yes" if f.inferred else "no"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning", "info")}
    return "\n".join([*lines, "", ", ".join(f"{n} {s}" for s, n in counts.items() if n) + " finding(s)"])


def as_json(findings: Sequence[Finding]) -> str:
    """The findings as a JSON list."""
    return json.dumps([asdict(f) for f in findings], indent=2, default=str)


def junit_xml(findings: Sequence[Finding]) -> str:
    """A JUnit report: one test case a finding (failed for errors and warnings), or one passing case."""
    from xml.etree import ElementTree as ET

    suite = ET.Element("testsuite", name="flux-mock drift", tests=str(max(1, len(findings))))
    failures = 0
    for f in findings:
        case = ET.SubElement(suite, "testcase", classname=f.kind, name=f"{f.request} {f.pointer}")
        if f.severity != "info":
            failures += 1
            failure = ET.SubElement(case, "failure", message=f.message, type=f.kind)
            failure.text = f"rule {f.rule} (x-inferred: {f.inferred}); recorded {f.recorded!r}, mock {f.mock!r}"
    if not findings:
        ET.SubElement(suite, "testcase", classname="drift", name="no drift")
    suite.set("failures", str(failures))
    return ET.tostring(suite, encoding="unicode")
