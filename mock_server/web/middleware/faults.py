"""Wire faults as pure ASGI middleware: what the selected scenarios do to one HTTP exchange.

Acts on API requests only, after `SelectionMiddleware` put a `Selection` into the scope:

- ``latency:<ms>`` waits (with the engine's injectable sleep), then carries on;
- ``disconnect`` closes the socket without a byte of response (under uvicorn), or raises
  `ConnectionDropped` in-process, where no socket exists;
- ``reject:<status>`` answers with the NestJS body of that status (429 with Retry-After);
- ``garbage``: ``html`` answers a proxy's 502 page; ``json`` lets the request through and cuts the body;
- ``credits:<n>`` sets the key's balance; endpoints charge it;
- on progress polls, a job's ``not-yet`` window answers 404 and ``flaky:<k>`` answers 503 to every k-th poll.
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mock_server.contract.errors import ConnectionDropped
from mock_server.contract.problems import error_body, nest_body
from mock_server.domain.clock import Clock
from mock_server.domain.credits import Credits
from mock_server.domain.operations import Classified, Operations, api_operation
from mock_server.domain.scenarios.engine import ScenarioEngine, Selection
from mock_server.domain.scenarios.registry import FOLLOW_UP_KINDS
from mock_server.domain.stores.base import Store
from mock_server.web.answers import send_body, send_json
from mock_server.web.bodies import original_receive
from mock_server.web.middleware.auth import KeyPolicy, bearer_token
from mock_server.web.middleware.journal import add_tag

# Seconds a client should wait after a 429: the documented windows (general endpoints 3 s, message 1 s).
RETRY_AFTER = {"general": 3, "message": 1}
_NOTHING = Selection()
PROXY_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class FaultMiddleware:
    """Act out the wire part of each request's `Selection`, and the job-attached poll faults."""

    def __init__(
        self,
        app: ASGIApp,
        engine: ScenarioEngine,
        store: Store,
        credits: Credits,
        clock: Clock,
        operations: Operations,
        accepts: KeyPolicy,
    ) -> None:
        self.app = app
        self.operations = operations
        self.accepts = accepts
        self.engine = engine
        self.store = store
        self.credits = credits
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        selection: Selection | None = scope.get("state", {}).get("selection") if scope["type"] == "http" else None
        if selection is None and not self.engine.poll_faults_used:
            # The common case: nothing selected and no job ever given a poll fault. Nothing to classify or do.
            await self.app(scope, receive, send)
            return
        op = api_operation(scope, self.operations)
        if op is None:
            await self.app(scope, receive, send)
            return
        if selection is None:  # only a job's own poll faults (not-yet, flaky) can apply
            if op.message_id is None or not await self._poll_fault(scope, send, op.message_id, _NOTHING):
                await self.app(scope, receive, send)
            return
        effect = selection.wire
        key = bearer_token(scope)
        if key is not None and (effect.disconnect or effect.reject or effect.garbage == "html"):
            # Journal the key even though a fault answers before auth does: QA asks "what did this client do?".
            scope.setdefault("state", {})["account"] = key
        # Per-key state is created for keys auth accepts only, so unauthenticated traffic cannot grow it.
        wanted = effect.credits
        if wanted is not None and self.accepts(key) and await self.store.credit_scenario(str(key), wanted):
            add_tag(scope, f"credits-set:{effect.credits}")
        if effect.latency_ms:
            await self.engine.sleep(effect.latency_ms / 1000)
        if effect.disconnect:
            await drop_connection(scope, receive)
            return
        if effect.reject is not None and (not effect.follow_ups_only or _follow_up(op)):
            bucket = "message" if op.role == "poll" else "general"
            headers = {"Retry-After": str(RETRY_AFTER[bucket])} if effect.reject == 429 else None
            await send_json(send, effect.reject, nest_body(effect.reject), headers)
            return
        if op.message_id is not None and await self._poll_fault(scope, send, op.message_id, selection):
            return
        if effect.garbage == "html":
            await send_body(send, 502, PROXY_502, b"text/html")
            return
        if effect.garbage == "json":
            await self._truncated(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _poll_fault(self, scope: Scope, send: Send, message_id: str, selection: Selection) -> bool:
        job = await self.store.find(message_id)
        if job is None or job.account != bearer_token(scope):
            return False  # no such job for this key: the endpoint answers 404 or auth 401, and nothing is counted
        timing = job.timing if job is not None else None
        if job is not None and timing is not None and self.clock.now() < job.plan.created_at + timing.not_found_for:
            _answered(scope, message_id, f"not-yet:{timing.not_found_for:g}")
            await send_json(send, 404, error_body(404, "Message not found"))
            return True
        chosen = [s for s in selection.scenarios if s.name == "flaky"]
        every = int(chosen[-1].value or 1) if chosen else (timing.flaky_every if timing is not None else None)
        if every and self.engine.count_poll(message_id) % every == 0:
            _answered(scope, message_id, f"flaky:{every}")
            await send_json(send, 503, nest_body(503))
            return True
        return False

    async def _truncated(self, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        assert start is not None, "the app answered nothing"
        body = b"".join(chunks)
        cut = body[: max(1, len(body) // 2)]  # half a JSON document never parses
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(cut)).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": cut})


def _follow_up(op: Classified) -> bool:
    """A request that creates a job acting on an earlier result (the follow-up-* scenarios' target)."""
    return op.role == "create" and op.job_kind in FOLLOW_UP_KINDS


def _answered(scope: Scope, message_id: str, tag: str) -> None:
    # The endpoint, which would note the job and key for the journal, is skipped: note them here, with the
    # job's scenario that answered (unless the request's own selection already named it).
    state = scope.setdefault("state", {})
    state.update(message_id=message_id, account=bearer_token(scope))
    if tag not in state.get("tags", ()):
        add_tag(scope, tag)


async def drop_connection(scope: Scope, receive: Receive) -> None:
    """Close the client's connection without answering.

    ASGI has no message for this, so under uvicorn the socket is closed through the server's own
    request cycle (the object behind its ``receive``), and the cycle is marked disconnected so uvicorn
    does not send its own 500. Anywhere else (e.g. httpx's in-process ASGITransport) no socket
    exists and `ConnectionDropped` is raised instead.
    """
    scope.setdefault("state", {})["dropped"] = True
    add_tag(scope, "dropped")
    cycle: Any = getattr(original_receive(receive), "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(cycle, "disconnected"):
        raise ConnectionDropped("The disconnect scenario dropped this request (closed without a response).")
    transport.close()
    cycle.disconnected = True
    await anyio.sleep(0)
