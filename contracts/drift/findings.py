"""What ``flux-mock drift`` reports: typed `Finding`s, each with a severity a CI can rely on.

Severities (``--fail-on`` defaults to ``error``):

- error: the recording breaks the contract, whatever the mock does (``contract``: a named check such as
  ``done_has_images`` or ``progress_never_decreases``; ``rule-broken`` and ``enum-not-in-spec``: the answer's
  schema), or the mock answers the same request with another HTTP status (``status``);
- warning: a difference the contract allows but worth a look, between an answer and the mock's answer in the
  same state (or the older recording's): ``field-added`` (a field the mock lacks), ``field-removed``,
  ``type-changed``, ``error-text``;
- info: ``pacing`` (one per job kind: how long jobs queued and ran) and ``header``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

SEVERITIES = ("error", "warning", "info")
KINDS: dict[str, str] = {
    "contract": "error",
    "rule-broken": "error",
    "enum-not-in-spec": "error",
    "status": "error",
    "field-added": "warning",
    "field-removed": "warning",
    "type-changed": "warning",
    "error-text": "warning",
    "pacing": "info",
    "header": "info",
}
# Judged on the recording alone: one finding per exchange and job, never merged.
ALONE = frozenset({"contract"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the recording shows: a broken rule, or a difference from the reference answer.

    Attributes:
        request: where, e.g. ``#4 GET /api/v1/message/fetch/{messageId}`` (the exchange's place in the recording,
            from 1), or ``kind imagine`` for pacing.
        pointer: the JSON pointer into the answer's body (``""``: the whole answer).
        recorded: the recorded value.
        reference: what it was compared with: the mock's answer in the same state, the older recording's, or
            what the rule expects.
        rule: a JSON pointer into openapi.yaml, a check's name (``done_has_images``), ``header:<name>`` or
            ``pacing``.
        inferred: whether the rule is ``x-inferred`` (the mock's guess, not documented).
        exchanges: how many exchanges showed the same finding (same kind, operation, pointer and rule).
    """

    kind: str
    severity: str
    request: str
    pointer: str
    recorded: Any
    reference: Any
    rule: str
    inferred: bool
    message: str
    exchanges: int = 1


def finding(
    kind: str, request: str, pointer: str, recorded: Any, reference: Any, rule: str, inferred: bool, message: str
) -> Finding:
    """A `Finding` with the severity of its kind."""
    return Finding(kind, KINDS[kind], request, pointer, recorded, reference, rule, inferred, message)


def collapse(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (kind, operation, pointer, rule): a field missing on every poll is one line, with its count.

    `contract` findings stay one per exchange: each names its job and polls.
    """
    kept: dict[tuple[str, ...], Finding] = {}
    alone: list[Finding] = []
    for f in findings:
        if f.kind in ALONE:
            alone.append(f)
            continue
        operation = f.request.split(" ", 1)[-1] if f.request.startswith("#") else f.request
        key = (f.kind, operation, f.pointer, f.rule)
        seen = kept.get(key)
        kept[key] = f if seen is None else replace(seen, exchanges=seen.exchanges + 1)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted([*alone, *kept.values()], key=lambda f: order[f.severity])
