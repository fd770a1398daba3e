"""Probes of ``flux-mock check``: requests a correct server refuses, so they create no job.

- one body per request rule (`contracts.core.rules`), each breaking exactly that rule: the answer must
  be 400 in the NestJS shape with a message naming the field;
- an unknown messageId (404), a malformed messageId (400), a request without credentials (401) and
  one with a wrong key (401), each in the NestJS shape. Against a flux-mock that accepts any key
  (`contracts.check.auth_mode`) the wrong-key probe is reported as skipped, not sent.

A server that wrongly accepts a body creates a job, so every POST here is sent only while the
job budget has room.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import httpx

from contracts import checks
from contracts.check.auth_mode import WRONG_KEY, AnyKeyMode
from contracts.core import rules
from contracts.core.budget import JobBudget
from contracts.core.calls import Caller, json_or_none
from contracts.core.failures import ContractFailure
from contracts.core.reporting import Outcome
from contracts.core.schema import contract

SUITE = "probes"
# A body this large may be refused as too large (413) before its rules are read (flux-mock's limit is 1 MiB).
TOO_LARGE = 1_000_000


async def _send(
    caller: Caller,
    budget: JobBudget | None,
    method: str,
    path: str,
    body: Any,
    *,
    auth: bool = True,
    key: str | None = None,
) -> httpx.Response | None:
    """Send one body; a job-creating request (`budget` given) only while the budget has room (None otherwise)."""
    if budget is not None and not budget.reserve():
        return None
    created = False
    try:
        response = await caller.send(method, path, json_body=body, auth=auth, key=key)
        created = budget is not None and response.is_success
    finally:
        if budget is not None:
            budget.settle(created)
    caller.cost.add(jobs=int(created))
    return response


async def _post(
    caller: Caller, budget: JobBudget, path: str, body: Any, *, auth: bool = True, key: str | None = None
) -> httpx.Response | None:
    return await _send(caller, budget, "POST", path, body, auth=auth, key=key)


def concrete_path(operation_id: str) -> str:
    """The operation's path with each path parameter filled in by a valid value (its example, else minimal)."""
    spec = contract()
    op = spec.operation(operation_id)
    path = op.path
    for name, schema in op.path_parameters.items():
        value = schema.get("example", rules.minimal_value(schema))
        path = path.replace("{" + name + "}", str(value))
    return path


def needs_plan(status: int, body: Any) -> str | None:
    """The server's reason when a 403 refuses the account's plan (e.g. a DIY-only endpoint); None otherwise."""
    if status != 403:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    text = " ".join(message) if isinstance(message, list) else str(message or "the account's plan does not allow it")
    return f"needs another plan: the server answered 403 ({text})"


async def rejection_probes(
    caller: Caller, budget: JobBudget, operation_ids: tuple[str, ...] | None = None
) -> list[Outcome]:
    """Send each rule's canonical bad body; one outcome per rule (default: every operation that takes a body).

    Bodies to job-creating operations (x-mock-kind create) are sent only while `budget` has room. A 403 for the
    account's plan (the DIY endpoints) is reported as skipped with the server's reason.
    """
    if operation_ids is None:
        operation_ids = rules.body_operations()
    creating = {op.operation_id for op in contract().by_role("create")}
    outcomes = []
    for operation_id in operation_ids:
        op = contract().operation(operation_id)
        path = concrete_path(operation_id)
        operation = f"{op.method} {op.path}"
        for rule in rules.rules(operation_id).values():
            outcome = Outcome(SUITE, f"rejects {operation_id} {rule.name}")
            outcomes.append(outcome)
            guard = budget if operation_id in creating else None
            try:
                response = await _send(caller, guard, op.method, path, rule.example)
            except httpx.HTTPError as exc:
                outcome.escalate("error", f"{type(exc).__name__}: {exc}")
                continue
            if response is None:
                outcome.escalate("skipped", "held back: the --max-jobs budget is spent")
                continue
            body = json_or_none(response)
            plan = needs_plan(response.status_code, body)
            if plan is not None:
                outcome.escalate("skipped", plan)
                continue
            size = len(json.dumps(rule.example).encode())
            if response.status_code == 413 and size > TOO_LARGE:
                outcome.escalate(
                    "skipped",
                    f"the body that breaks {rule.name} alone is {size} bytes and the server refuses it as too "
                    "large (413) before reading the rule: it cannot be probed alone",
                )
                continue
            field = rule.field or next(k for k in rule.example if k not in _properties(operation_id))
            found = checks.rejection_names_field(
                response.status_code, body, rule=rule.name, field=field, operation=operation
            )
            if response.status_code >= 400:
                found += checks.error_has_nestjs_shape(response.status_code, body, operation=operation)
            notes = (f"this rule is the mock's choice (x-inferred): {rule.inferred}",) if rule.inferred else ()
            reproduce = caller.curl(op.method, path, rule.example)
            outcome.fail(f.with_context(curl=reproduce, notes=notes) for f in found)
    return outcomes


def _properties(operation_id: str) -> dict[str, Any]:
    schema = contract().operation(operation_id).request_schema or {}
    props: dict[str, Any] = schema.get("properties", {})
    return props


async def error_probes(
    caller: Caller, budget: JobBudget, seed: int, *, any_key: AnyKeyMode | None = None
) -> list[Outcome]:
    """Unknown id -> 404, malformed id -> 400, no credentials -> 401, a wrong key -> 401; each in the NestJS shape.

    With `any_key` (a flux-mock that accepts any key) the wrong-key probe is skipped with the reason.
    """
    spec = contract()
    # Not Random(seed) itself: a server seeding its ids the same way (flux-mock does) would own this id.
    unknown = str(uuid.UUID(int=random.Random(f"flux-mock-check unknown {seed}").getrandbits(128), version=4))
    inferred = spec.document["components"]["parameters"]["MessageId"]["schema"].get("x-inferred")
    # (name, method, path, expected status, notes, credentials: "key", "none" or "wrong")
    probes: list[tuple[str, str, str, int, tuple[str, ...], str]] = []
    for op in spec.by_role("poll"):
        path = op.path
        probes.append(
            (f"{op.operation_id} unknown messageId -> 404", "GET", path.replace("{messageId}", unknown), 404, (), "key")
        )
        probes.append(
            (
                f"{op.operation_id} malformed messageId -> 400",
                "GET",
                path.replace("{messageId}", "not-a-uuid"),
                400,
                (f"x-inferred: {inferred}",) if inferred else (),
                "key",
            )
        )
    create = spec.by_role("create")[0]
    probes.append((f"{create.operation_id} without credentials -> 401", "POST", create.path, 401, (), "none"))
    probes.append((f"{create.operation_id} with a wrong key -> 401", "POST", create.path, 401, (), "wrong"))
    outcomes = []
    for name, method, path, expected, notes, credentials in probes:
        outcome = Outcome(SUITE, name)
        outcomes.append(outcome)
        if credentials == "wrong" and any_key is not None:
            outcome.escalate("skipped", any_key.reason)
            continue
        body = {"prompt": "a red fox in the snow"} if method == "POST" else None
        key = WRONG_KEY if credentials == "wrong" else None
        try:
            if method == "POST":
                response = await _post(caller, budget, path, body, auth=credentials == "key", key=key)
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
            sent = {"none": "no Authorization header", "wrong": f"the wrong key Bearer {WRONG_KEY}"}.get(credentials)
            found.append(
                ContractFailure(
                    "error_status",
                    f"expected {expected}, got {response.status_code}" + (f" (sent {sent})" if sent else ""),
                    operation,
                    "",
                    expected,
                    response.status_code,
                )
            )
        if response.status_code >= 400:
            found += checks.error_has_nestjs_shape(response.status_code, payload, operation=operation)
        reproduce = caller.curl(method, path, body, auth=credentials == "key")
        if key is not None:
            reproduce = reproduce.replace(" -X POST ", f" -X POST -H 'Authorization: Bearer {key}' ", 1)
        outcome.fail(f.with_context(curl=reproduce, notes=notes) for f in found)
    return outcomes
