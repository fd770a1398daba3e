"""A recording judged on its own: the rules ``flux-mock check`` and the proxy apply, over the recorded exchanges.

Whatever the mock does, a recorded answer that breaks its schema is an ``enum-not-in-spec`` or ``rule-broken``
error naming the keyword's pointer in openapi.yaml, and the exchanges go through the same `Traffic` checks the
proxy applies to live traffic (status only forward, progress never decreasing, DONE with its media, FAIL with an
error, both poll paths agreeing, timestamps, the job ending within its timeout, error bodies NestJS-shaped, ...):
each break is a ``contract`` error naming the check, the exchange and the job.

Request-side rules (an invalid body that was accepted) are the proxy's to judge live: a recording keeps the
request as sent, and drift judges the answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.checks import CHECKS
from contracts.checks.traffic import Traffic
from contracts.core.failures import NOT_GIVEN
from contracts.core.schema import contract, schema_errors_at
from contracts.drift.findings import Finding, finding
from contracts.drift.shapes import inferred, schema_of, unescape
from mock_server import HarEntry, Operations, ProxiedExchange


def label(index: int, entry: HarEntry, operation_id: str | None) -> str:
    """How findings name an exchange: ``#4 GET /api/v1/message/fetch/{messageId}`` (its place, from 1)."""
    template = contract().operation(operation_id).path if operation_id else entry.path
    return f"#{index + 1} {entry.method} {template}"


def exchange(entry: HarEntry, operations: Operations) -> ProxiedExchange:
    """A recorded exchange as the proxy shows one to its checks."""
    op = operations.classify(entry.method, entry.path)
    auth = entry.request_header("authorization") or ""
    return ProxiedExchange(
        at=entry.started,
        method=entry.method,
        path=entry.path,
        query=entry.query,
        operation_id=op.operation_id,
        role=op.role,
        message_id=op.message_id,
        request_body=entry.request_json(),
        request_violations=(),
        had_credentials=auth.lower().startswith("bearer "),
        status=entry.status,
        content_type=entry.response_header("content-type") or "",
        response_body=entry.response_json(),
    )


def schema_findings(request: str, operation_id: str | None, entry: HarEntry) -> list[Finding]:
    """The answer's breaks of its documented schema (none for undocumented answers or paths)."""
    shape = schema_of(operation_id, entry.status) if operation_id else None
    body = entry.response_json()
    if shape is None or body is None:
        return []
    found = []
    for error in schema_errors_at(shape.root, body):
        parts = [unescape(p) for p in error.pointer.split("/")[1:]]
        where = shape.at(parts)[0]
        kind = "enum-not-in-spec" if error.keyword == "enum" else "rule-broken"
        rule = f"{where}/{error.keyword}"
        found.append(finding(kind, request, error.pointer, error.value, None, rule, inferred(rule), error.message))
    return found


def judge(entries: Sequence[HarEntry], operations: Operations) -> list[Finding]:
    """Every rule the recording breaks on its own, in recorded order."""
    traffic = Traffic()
    found: list[Finding] = []
    for index, entry in enumerate(entries):
        seen = exchange(entry, operations)
        request = label(index, entry, seen.operation_id)
        found += schema_findings(request, seen.operation_id, entry)
        for failure in traffic.failures(seen):
            job = f" (job {failure.message_id})" if failure.message_id else ""
            expected = None if failure.expected is NOT_GIVEN else failure.expected
            actual = None if failure.actual is NOT_GIVEN else failure.actual
            said = f"{failure.check}: {failure.message}{job}; the rule: {CHECKS.get(failure.check, failure.check)}"
            found.append(finding("contract", request, failure.pointer, actual, expected, failure.check, False, said))
    return found
