"""`SelectionMiddleware`: resolve each API request's scenarios (the rules: `mock_server.domain.scenarios.engine`)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.errors import MockServerError
from mock_server.contract.problems import HttpError
from mock_server.domain.jobs import Timing
from mock_server.domain.operations import Operations, api_operation
from mock_server.domain.scenarios.engine import (
    ScenarioEngine,
    Selection,
    applies,
    may_hold_directive,
    prefer_scenarios,
    request_kind,
    strip_directives,
)
from mock_server.domain.stores.base import Store
from mock_server.web.answers import send_json
from mock_server.web.bodies import note_body, read_body
from mock_server.web.middleware.auth import KeyPolicy, bearer_token
from mock_server.web.middleware.journal import add_tag


class SelectionMiddleware:
    """Resolve each API request's scenarios into ``scope["state"]["selection"]``; a bad name answers 400.

    For creates it reads the JSON body first (bounded by `max_body`) to find prompt directives and match
    prompt rules, then replays it to the endpoint untouched.
    """

    def __init__(
        self,
        app: ASGIApp,
        engine: ScenarioEngine,
        operations: Operations,
        max_body: int,
        accepts: KeyPolicy,
        store: Store,
    ) -> None:
        self.app = app
        self.engine = engine
        self.store = store
        self.operations = operations
        self.max_body = max_body
        self.accepts = accepts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and self.engine.idle and not _header_values(scope):
            # The hot poll: nothing armed, no header, and a GET never creates a job. Nothing to classify or select.
            await self.app(scope, receive, send)
            return
        op = api_operation(scope, self.operations)
        if op is None:
            await self.app(scope, receive, send)
            return
        kind = request_kind(op.role)
        headers = _header_values(scope)
        may_read = kind == "create" and self._may_read(scope)
        if not headers and self.engine.idle and not may_read:
            await self.app(scope, receive, send)
            return
        prompt, raw = None, None
        if may_read:
            receive, raw = await read_body(receive, self.max_body)
            if not headers and self.engine.idle and raw is not None and not may_hold_directive(raw):
                # The common create: nothing armed, no header, no directive. Nothing to select.
                await self.app(scope, receive, send)
                return
            # Parse only when a directive may be inside or a prompt rule needs the text (the endpoint parses anyway).
            if raw is not None and (may_hold_directive(raw) or self.engine.wants_prompt):
                prompt = _prompt_of(raw)
        try:
            selection = self.engine.select(kind, headers, prompt)
            # A counted rule's matches are the fleet's: when another worker used the last one, select again.
            while selection.rule is not None and selection.rule.remaining is not None:
                if await self.store.take(selection.rule):
                    break
                self.engine.exhaust(selection.rule.id)
                selection = self.engine.select(kind, headers, prompt)
        except MockServerError as exc:
            where = "X-Mock-Scenario/Prefer header" if headers else "prompt directive [mock:...]"
            add_tag(scope, "bad-scenario")
            error = HttpError(400, f"Bad scenario in the {where}: {exc}")
            await send_json(send, error.status, error.body())
            return
        applicable = [s for s in selection.scenarios if applies(kind, s)]
        if applicable:
            state = scope.setdefault("state", {})
            state["selection"] = selection
            if raw is not None:  # the journal shows the body even when a fault answers before the endpoint reads it
                note_body(state, raw)
            add_tag(scope, f"via:{selection.source}")
        for s in selection.scenarios:
            if s in applicable:
                add_tag(scope, s.text)
            elif selection.source in ("header", "prompt"):
                add_tag(scope, f"ignored:{s.text}")  # e.g. `fail` sent on a poll: say so instead of staying silent
        await self.app(scope, receive, send)

    def _may_read(self, scope: Scope) -> bool:
        # An upload from a key auth will refuse, or one declared over the limit, is never read: auth answers 401
        # and the endpoint 413 without reading it.
        if not self.accepts(bearer_token(scope)):
            return False
        declared = next((v for n, v in scope["headers"] if n == b"content-length"), b"")
        return not (declared.isdigit() and int(declared) > self.max_body)


def _prompt_of(raw: bytes) -> str | None:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    prompt = body.get("prompt") if isinstance(body, dict) else None
    return prompt if isinstance(prompt, str) else None


def _header_values(scope: Scope) -> list[str]:
    values: list[str] = []
    for name, raw in scope["headers"]:
        if name == b"x-mock-scenario":
            values.append(raw.decode("latin-1"))
        elif name == b"prefer":
            values.extend(prefer_scenarios(raw.decode("latin-1")))
    return [v for v in values if v.strip()]


def admit(engine: ScenarioEngine, scope: Scope, fields: dict[str, Any], base: Timing) -> tuple[dict[str, Any], Timing]:
    """For a create: strip prompt directives, record the scenario text, and plan the job's Timing."""
    prompt = fields.get("prompt")
    if isinstance(prompt, str) and "[" in prompt and "[mock:" in prompt.lower():  # most prompts hold no "["
        fields = {**fields, "prompt": strip_directives(prompt)}
    selection: Selection | None = scope.get("state", {}).get("selection")
    if selection is None:
        return fields, base
    fields = dict(fields)
    fields["scenario"] = selection.text
    timing = engine.timing(
        selection, base, kind=str(fields["kind"]), timeout=float(fields["timeout"]), n=int(fields.get("n", 1))
    )
    return fields, timing
