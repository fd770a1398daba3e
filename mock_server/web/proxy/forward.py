"""`Forwarder`: the end of the proxy's middleware chain, where a request goes to the upstream and back.

For each request: read the body once (bounded), validate it with the mock's validators, refuse it under
``--strict`` (the mock's own 400/401, never forwarded: no credits spent), forward it with httpx, validate the
answer, let the observer judge the exchange (the contract kit's lifecycle checks), journal and print every
violation, record the exchange, and answer. The answer is the upstream's, unchanged, unless ``--strict`` turns
an invalid one into a 502 or the violations header is asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson
from starlette.types import Receive, Scope, Send

from mock_server.contract.problems import HttpError, Violation, error_body, from_violations, unauthorized
from mock_server.domain.operations import of_scope
from mock_server.domain.records.har import HarEntry, HarRecorder
from mock_server.domain.scenarios.engine import may_hold_directive, strip_directives
from mock_server.services.container import Services
from mock_server.web.answers import send_json
from mock_server.web.bodies import note_body, read_body
from mock_server.web.middleware.auth import bearer_token, has_body
from mock_server.web.middleware.journal import add_tag
from mock_server.web.proxy.contract import ResponseValidators, missing_credentials, request_violations
from mock_server.web.proxy.exchange import HEADER_NAME, Observer, ProxiedExchange, ProxyOptions

# Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection, never forwarded. Host is the upstream's (httpx sets
# it); Content-Length and Content-Encoding are recomputed because httpx hands over the decoded body.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
        "host",
        "content-length",
        "content-encoding",
    }
)
Echo = Callable[[str], Any]


class Forwarder:
    """The proxy's endpoint: forward one request to the upstream, judge both directions, answer."""

    def __init__(
        self,
        svc: Services,
        options: ProxyOptions,
        client: httpx.AsyncClient,
        *,
        observe: Observer | None = None,
        recorder: HarRecorder | None = None,
        echo: Echo | None = None,
    ) -> None:
        self.svc = svc
        self.options = options
        self.client = client
        self.observe = observe
        self.recorder = recorder
        self.echo = echo
        self.responses = ResponseValidators(svc)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        svc, state = self.svc, scope.setdefault("state", {})
        op = of_scope(scope, svc.operations)
        at = svc.clock.now()
        receive, raw = await read_body(receive, svc.settings.max_body_bytes)
        if raw is None:
            limit = svc.settings.max_body_bytes
            error = HttpError(413, f"Request body is over the {limit}-byte limit (--max-body-bytes).")
            await send_json(send, 413, error.body(), {"Connection": "close"})
            return
        state["operation_id"], state["message_id"] = op.operation_id, op.message_id
        if raw:
            note_body(state, raw)
        key = bearer_token(scope)
        body, found, refused = await request_violations(svc, op, scope, receive)
        if op.api and key is None:
            sent = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"authorization"), None)
            found.insert(0, missing_credentials(sent))
            refused = unauthorized()  # the mock checks the key before it reads a body
        state["violations"] = tuple(found)
        self._say(scope, found, "request")
        if self.options.strict and found:
            add_tag(scope, "proxy:refused")
            error = refused or from_violations(found)
            close = {"Connection": "close"} if error.status == 401 and has_body(scope) else None
            await send_json(send, error.status, error.body(), close)
            return
        if key is not None:
            state["account"] = key  # the journal masks it; it is never written anywhere else
        forwarded = _without_directives(raw) if op.role == "create" else raw
        sent_headers = self._outgoing(scope)
        started = time.perf_counter()
        try:
            answer = await self._forward(scope, forwarded, sent_headers)
        except httpx.HTTPError as exc:
            add_tag(scope, "proxy:upstream-unreachable")
            text = f"Bad Gateway: the upstream {self.options.base} did not answer ({type(exc).__name__}: {exc})"
            await send_json(send, 502, error_body(502, text + "; check --upstream and the network."))
            return
        duration_ms = (time.perf_counter() - started) * 1000
        content_type = answer.headers.get("content-type", "")
        parsed, wrong = self.responses.violations(op, answer.status_code, content_type, answer.content)
        exchange = ProxiedExchange(
            at=at,
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode("latin-1"),
            operation_id=op.operation_id,
            role=op.role,
            message_id=op.message_id,
            request_body=body,
            request_violations=tuple(found),
            had_credentials=key is not None,
            status=answer.status_code,
            content_type=content_type,
            response_body=parsed,
        )
        if self.observe is not None:
            wrong += list(self.observe(exchange))
        state["violations"] = (*found, *wrong)
        self._say(scope, wrong, "response")
        if self.recorder is not None:
            self._record(scope, sent_headers, forwarded, answer, at, duration_ms)
        if self.options.strict and wrong:
            add_tag(scope, "proxy:blocked-answer")
            text = f"Bad Gateway: the upstream's {answer.status_code} answer breaks openapi.yaml"
            await send_json(send, 502, error_body(502, text, tuple(wrong)), self._header(wrong))
            return
        headers = [(k.lower(), v) for k, v in answer.headers.raw if k.lower().decode("latin-1") not in _HOP]
        headers += [(k.lower().encode(), v.encode()) for k, v in self._header(wrong).items()]
        headers.append((b"content-length", str(len(answer.content)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": answer.content})

    @staticmethod
    def _outgoing(scope: Scope) -> list[tuple[str, str]]:
        return [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in scope["headers"]
            if k.decode("latin-1").lower() not in _HOP
        ]

    async def _forward(self, scope: Scope, raw: bytes, headers: list[tuple[str, str]]) -> httpx.Response:
        url = self.options.base + scope["path"]
        query = scope.get("query_string", b"")
        if query:
            url += "?" + query.decode("latin-1")
        return await self.client.request(scope["method"], url, headers=headers, content=raw or None)

    def _record(
        self,
        scope: Scope,
        headers: list[tuple[str, str]],
        sent: bytes,
        answer: httpx.Response,
        at: float,
        duration_ms: float,
    ) -> None:
        assert self.recorder is not None
        query = scope.get("query_string", b"").decode("latin-1")
        self.recorder.add(
            HarEntry(
                started=at,
                method=scope["method"],
                url=self.options.base + scope["path"] + (f"?{query}" if query else ""),
                request_headers=tuple(headers),  # as sent upstream; the recorder redacts credentials
                request_body=sent,
                status=answer.status_code,
                response_headers=tuple((k, v) for k, v in answer.headers.multi_items() if k.lower() not in _HOP),
                response_body=answer.content,
                duration_ms=duration_ms,
            )
        )

    def _header(self, wrong: list[Violation]) -> dict[str, str]:
        limit = self.options.violations_header
        return {HEADER_NAME: header_value(wrong, limit)} if limit and wrong else {}

    def _say(self, scope: Scope, found: list[Violation], side: str) -> None:
        if self.echo is None:
            return
        for v in found:
            where = f"{v.location}{v.pointer or ' (root)'}"
            blame = "client request" if side == "request" else "upstream answer"
            self.echo(
                f"[{blame}] {scope['method']} {scope['path']}: {v.message} (at {where}, rule {v.rule}, "
                f"got {orjson.dumps(v.value, default=str).decode()[:120]}; {v.hint})"
            )


def header_value(found: list[Violation], limit: int) -> str:
    """``2 violation(s): /progress maximum; /uri done_has_images``, ASCII, cut to `limit` bytes with a pointer on."""
    head = f"{len(found)} violation(s): "
    tail = "; more at /__mock/violations"
    parts: list[str] = []
    for v in found:
        item = f"{v.pointer or '/'} {v.rule}".encode("ascii", "replace").decode()
        if len(head) + len("; ".join([*parts, item])) + len(tail) > limit:
            return (head + "; ".join(parts) + tail)[:limit]
        parts.append(item)
    return (head + "; ".join(parts))[:limit]


def _without_directives(raw: bytes) -> bytes:
    # `[mock:...]` is meant for the mock: the real upstream would draw it into the image. Stripped, like the mock does.
    if not may_hold_directive(raw):
        return raw
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    if isinstance(body, dict) and isinstance(body.get("prompt"), str):
        body["prompt"] = strip_directives(body["prompt"])
        return orjson.dumps(body)
    return raw
