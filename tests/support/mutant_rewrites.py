"""How a mutant server is made: flux-mock wrapped in a small ASGI layer that rewrites requests or responses.

`Rewrite` is the layer, `Mutant` names one bug and the checks expected to catch it, `faithful` is the mock itself
with the mutants' settings (the control). The mutants themselves: `mutants` (the contract's rules, which the
proxy is held to as well) and `mutant_actions` (what documented actions do).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server import Clock, Settings, create_app

API_KEY = "sk-mutant"
CREDITS = 1_000_000  # a finite balance, so account-info shows what each job is charged
FETCH_PREFIXES = ("/api/v1/message/fetch/", "/api/v1/midjourney/message/", "/api/v1/video/mj/fetch/")


@dataclass(frozen=True)
class Reply:
    """What a request rule returns to answer the request itself: the wrapped app never sees it."""

    status: int
    body: Any


@dataclass
class Call:
    """What a rewrite rule sees of one request."""

    method: str
    path: str
    state: dict[str, Any]  # per-mutant memory (e.g. how often a job was polled)
    body: Any = None  # the parsed JSON request body, for POSTs
    reply: Reply | None = None  # set when a request rule answered the request itself

    @property
    def is_button(self) -> bool:
        return self.method == "POST" and self.path.endswith("/button") and isinstance(self.body, dict)

    @property
    def is_image(self) -> bool:
        return self.method == "GET" and self.path.startswith("/storage/")

    @property
    def is_fetch(self) -> bool:
        return self.method == "GET" and self.path.startswith(FETCH_PREFIXES)

    @property
    def is_create(self) -> bool:
        return self.method == "POST" and self.path.startswith("/api/v1/flux/")

    @property
    def is_legacy(self) -> bool:
        return self.path.startswith(FETCH_PREFIXES[1])


RequestRule = Callable[[Call, Any], Any]
ResponseRule = Callable[[Call, int, Any], tuple[int, Any]]
HeaderRule = Callable[[Call, list[tuple[bytes, bytes]]], list[tuple[bytes, bytes]]]


class Rewrite:
    """ASGI wrapper: rewrite JSON request bodies, headers and JSON responses of the wrapped app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        request: RequestRule | None = None,
        response: ResponseRule | None = None,
        headers: HeaderRule | None = None,
    ) -> None:
        self.app, self.request, self.response, self.headers = app, request, response, headers
        self.state: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        call = Call(scope["method"], scope["path"], self.state)
        scope = dict(scope)
        if self.headers is not None:
            scope["headers"] = self.headers(call, list(scope["headers"]))
        if scope["method"] == "POST":
            receive, scope = await self._rewrite_request(call, scope, receive)
        if call.reply is not None:
            raw = json.dumps(call.reply.body).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]
            await send({"type": "http.response.start", "status": call.reply.status, "headers": headers})
            await send({"type": "http.response.body", "body": raw})
            return
        if self.response is None:
            await self.app(scope, receive, send)
            return
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send_rewritten(call, started, b"".join(chunks), send)

        await self.app(scope, receive, capture)

    async def _rewrite_request(self, call: Call, scope: Scope, receive: Receive) -> tuple[Receive, Scope]:
        raw, more = b"", True
        while more:
            message = await receive()
            raw += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            call.body = json.loads(raw)
        except ValueError:
            call.body = None  # not JSON: passed on untouched, the mock answers as usual
        else:
            if self.request is not None:
                changed = self.request(call, call.body)
                if isinstance(changed, Reply):
                    call.reply = changed
                else:
                    raw = json.dumps(changed).encode()
        headers = [(k, v) for k, v in scope["headers"] if k != b"content-length"]
        scope["headers"] = [*headers, (b"content-length", str(len(raw)).encode())]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        return replay, scope

    async def _send_rewritten(self, call: Call, started: dict[str, Any], raw: bytes, send: Send) -> None:
        assert self.response is not None
        status = started["status"]
        headers = [(k, v) for k, v in started.get("headers", []) if k != b"content-length"]
        is_json = any(k == b"content-type" and v.startswith(b"application/json") for k, v in headers)
        status, body = self.response(call, status, json.loads(raw) if is_json else raw)
        if isinstance(body, bytes):
            raw = body  # a rewritten download (or the same bytes)
        else:
            raw = json.dumps(body).encode()
            headers = [(k, v) for k, v in headers if k != b"content-type"] + [(b"content-type", b"application/json")]
        headers.append((b"content-length", str(len(raw)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": raw})


@dataclass(frozen=True)
class Mutant:
    """One broken server: a name, the bug, the checks expected to catch it, and how to build it."""

    name: str
    bug: str
    expected: frozenset[str]
    request: RequestRule | None = None
    response: ResponseRule | None = None
    headers: HeaderRule | None = None
    # The parts of a default `check` the kill matrix runs it with (None: its KILL_PHASES); a mutant whose fault
    # only the lifecycle run can see needs no probes or schemathesis, which cost the fast tier seconds each.
    phases: frozenset[str] | None = None
    concurrency: int | None = None  # jobs a key runs at once, when not the mock's default

    def build(self, clock: Clock, job_seconds: float = 3.0, public_url: str | None = None) -> Rewrite:
        base = faithful(clock, job_seconds, public_url, concurrency=self.concurrency)
        rewrite = Rewrite(base, request=self.request, response=self.response, headers=self.headers)
        rewrite.state["clock"] = clock  # for rules that act on time (a lagging path)
        return rewrite


def faithful(
    clock: Clock, job_seconds: float = 3.0, public_url: str | None = None, *, concurrency: int | None = None
) -> ASGIApp:
    """The mock itself, with the same settings as the mutants (the control: check must pass)."""
    settings = Settings(
        job_seconds=job_seconds,
        **({"concurrency": concurrency} if concurrency is not None else {}),
        seed=7,
        api_keys=(API_KEY,),
        public_url=public_url,
        credits=CREDITS,
        **dry_webhooks(),
    )
    return create_app(settings, clock=clock)


def dry_webhooks() -> dict[str, Any]:
    """Webhooks recorded, not sent: the mutants run in-process, and check's EchoInbox stands in for delivery."""
    return {"webhook_transport": "record"}


def _on_message(change: Callable[[Call, dict[str, Any]], None]) -> ResponseRule:
    """Rewrite 200 fetch answers only."""

    def rule(call: Call, status: int, body: Any) -> tuple[int, Any]:
        if call.is_fetch and status == 200 and isinstance(body, dict):
            body = dict(body)
            change(call, body)
        return status, body

    return rule
