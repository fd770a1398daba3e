"""Probes of ``flux-mock check``: requests a correct server refuses, so they create no job.

- one body per request rule (`contracts.rules`), each breaking exactly that rule: the answer must
  be 400 in the NestJS shape with a message naming the field;
- an unknown messageId (404), a malformed messageId (400) and a request without credentials (401),
  each in the NestJS shape.

A server that wrongly accepts a body creates a job, so every POST here is sent only while the
job budget has room.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx

from . import checks, rules
from .budget import JobBudget
from .calls import Caller, json_or_none
from .failures import ContractFailure
from .reporting import Outcome
from .schema import contract

SUITE = "probes"


async def _post(caller: Caller, budget: JobBudget, path: str, body: Any, *, auth: bool = True) -> httpx.Response | None:
    if not budget.reserve():
        return None
    created = False
    try:
        response = await caller.send("POST", path, json_body=body, auth=auth)
        created = response.is_success
    finally:
        budget.settle(created)
    caller.cost.add(jobs=int(created))
    return response


async def rejection_probes(caller: Caller, budget: JobBudget, operation_ids: tuple[str, ...]) -> list[Outcome]:
    """Send each rule's canonical bad body; one outcome per rule."""
    outcomes = []
    for operation_id in operation_ids:
        path = contract().operation(operation_id).path
        operation = f"POST {path}"
        for rule in rules.rules(operation_id).values():
            outcome = Outcome(SUITE, f"rejects {operation_id} {rule.name}")
            outcomes.append(outcome)
            try:
                response = await _post(caller, budget, path, rule.example)
            except httpx.HTTPError as exc:
                outcome.escalate("error", f"{type(exc).__name__}: {exc}")
                continue
            if response is None:
                outcome.escalate("skipped", "held back: the --max-jobs budget is spent")
                continue
            body = json_or_none(response)
            field = rule.field or next(k for k in rule.example if k not in _properties(operation_id))
            found = checks.rejection_names_field(
                response.status_code, body, rule=rule.name, field=field, operation=operation
            )
            if response.status_code >= 400:
                found += checks.error_has_nestjs_shape(response.status_code, body, operation=operation)
            notes = (f"this rule is the mock's choice (x-inferred): {rule.inferred}",) if rule.inferred else ()
            outcome.fail(f.with_context(curl=caller.curl("POST", path, rule.example), notes=notes) for f in found)
    return outcomes


def _properties(operation_id: str) -> dict[str, Any]:
    schema = contract().operation(operation_id).request_schema or {}
    props: dict[str, Any] = schema.get("properties", {})
    return props


async def error_probes(caller: Caller, budget: JobBudget, seed: int) -> list[Outcome]:
    """Unknown id -> 404, malformed id -> 400, no credentials -> 401; each in the NestJS shape."""
    spec = contract()
    # Not Random(seed) itself: a server seeding its ids the same way (flux-mock does) would own this id.
    unknown = str(uuid.UUID(int=random.Random(f"flux-mock-check unknown {seed}").getrandbits(128), version=4))
    inferred = spec.document["components"]["parameters"]["MessageId"]["schema"].get("x-inferred")
    probes: list[tuple[str, str, str, int, tuple[str, ...]]] = []
    for op_id in ("fetchMessage", "fetchMessageLegacy"):
        path = spec.operation(op_id).path
        probes.append((f"{op_id} unknown messageId -> 404", "GET", path.replace("{messageId}", unknown), 404, ()))
        probes.append(
            (
                f"{op_id} malformed messageId -> 400",
                "GET",
                path.replace("{messageId}", "not-a-uuid"),
                400,
                (f"x-inferred: {inferred}",) if inferred else (),
            )
        )
    imagine = spec.operation("fluxImagine").path
    probes.append(("fluxImagine without credentials -> 401", "POST", imagine, 401, ()))
    outcomes = []
    for name, method, path, expected, notes in probes:
        outcome = Outcome(SUITE, name)
        outcomes.append(outcome)
        anonymous = expected == 401
        body = {"prompt": "a red fox in the snow"} if method == "POST" else None
        try:
            if method == "POST":
                response = await _post(caller, budget, path, body, auth=not anonymous)
            else:
                response = await caller.send(method, path)
        except httpx.HTTPError as exc:
            outcome.escalate("error", f"{type(exc).__name__}: {exc}")
            continue
        if response is None:
            outcome.escalate("skipped", "held back: the --max-jobs budget is spent")
            continue
        operation = f"{method} {path}"
        payload = json_or_none(response)
        found = []
        if response.status_code != expected:
            found.append(
                ContractFailure(
                    "error_status",
                    f"expected {expected}, got {response.status_code}",
                    operation,
                    "",
                    expected,
                    response.status_code,
                )
            )
        if response.status_code >= 400:
            found += checks.error_has_nestjs_shape(response.status_code, payload, operation=operation)
        reproduce = caller.curl(method, path, body, auth=not anonymous)
        outcome.fail(f.with_context(curl=reproduce, notes=notes) for f in found)
    return outcomes
