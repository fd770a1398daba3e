"""What the client got back: an ASGI recorder of the mock's answers, paired with the request journal.

The mock's journal records what a client sent; `AnswerRecorder` wraps the app and adds what came
back (the job status a poll saw, the Retry-After of a 429, a garbled body). `exchanges_from` pairs
the two into the `Exchange`s the client checks judge.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.verify.checks import Exchange, Route, match_route
from mock_server import ADMIN_PREFIX


@dataclass(frozen=True, slots=True)
class Answer:
    """What the mock answered to one request (recorded by `AnswerRecorder`)."""

    method: str
    path: str
    status: int | None
    retry_after: float | None = None
    body: Any = None  # parsed JSON of an API answer, if it parsed
    malformed: bool = False


class AnswerRecorder:
    """Pure ASGI wrapper that notes each answer's status, Retry-After and JSON body.

    The request journal records what the client sent; this adds what it got back (the job status a poll saw,
    the Retry-After a 429 carried). `app` is bound late, so a server can be built on the port first.
    """

    def __init__(self, app: ASGIApp | None = None, *, max_body: int = 256 * 1024) -> None:
        self.app = app
        self.max_body = max_body
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.app is not None, "AnswerRecorder.app must be set before serving"
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        status: int | None = None
        retry_after: float | None = None
        is_json = False
        chunks: list[bytes] = []

        def size() -> int:
            return sum(map(len, chunks))

        async def observe(message: Message) -> None:
            nonlocal status, retry_after, is_json
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"retry-after":
                        retry_after = _seconds(value.decode("latin-1"))
                    elif name.lower() == b"content-type":
                        is_json = b"json" in value.lower()
            elif message["type"] == "http.response.body" and is_json and size() < self.max_body:
                chunks.append(message.get("body", b""))
            await send(message)

        with self._lock:
            self._in_flight += 1
        try:
            await self.app(scope, receive, observe)
        finally:
            answer = _answer(scope["method"], scope["path"], status, retry_after, is_json, b"".join(chunks))
            with self._lock:
                self.answers.append(answer)
                self._in_flight -= 1

    def settle(self, timeout: float = 2.0) -> None:
        """Wait (bounded) until no request is being answered, so the journal holds every finished request."""
        deadline = time.monotonic() + timeout
        while self._in_flight and time.monotonic() < deadline:
            time.sleep(0.005)


def _seconds(raw: str) -> float | None:
    try:
        return max(0.0, float(raw.strip()))
    except ValueError:
        return None  # an HTTP-date Retry-After; the mock never sends one


def _answer(method: str, path: str, status: int | None, retry_after: float | None, is_json: bool, raw: bytes) -> Answer:
    body: Any = None
    malformed = False
    if path.startswith("/api/") and status is not None and status < 300:
        # A documented answer that is not JSON, does not parse or is not an object is garbage the client must survive.
        try:
            body = orjson.loads(raw) if is_json else None
        except orjson.JSONDecodeError:
            body = None
        malformed = not isinstance(body, dict)
    elif is_json and raw:
        with contextlib.suppress(orjson.JSONDecodeError):
            body = orjson.loads(raw)
    return Answer(method, path, status, retry_after, body, malformed)


def contract_routes() -> tuple[Route, ...]:
    """Every documented operation of openapi.yaml as (operationId, METHOD, path template)."""
    from mock_server import load_spec

    return tuple(sorted((op.operation_id, op.method, op.path) for op in load_spec().operations.values()))


def exchanges_from(
    entries: Iterable[Any], answers: Iterable[Answer], routes: Sequence[Route] | None = None
) -> list[Exchange]:
    """Pair journal entries (`RequestRecorded`) with recorded answers into `Exchange`s, in journal order.

    Pairing is first-in first-out per request line, which is exact for one client and at worst swaps two
    identical concurrent requests. A request answered before an endpoint named it (a 404 of ``not-yet``,
    a 429, a malformed id) gets its operation and messageId from the contract's `routes` (default: openapi.yaml).
    """
    routes = contract_routes() if routes is None else routes
    queues: dict[tuple[str, str], list[Answer]] = {}
    for recorded in answers:
        queues.setdefault((recorded.method, recorded.path), []).append(recorded)
    out = []
    for entry in sorted(entries, key=lambda e: e.seq):
        queue = queues.get((entry.method, entry.path))
        answer = queue.pop(0) if queue else None
        body: dict[str, Any] = answer.body if answer is not None and isinstance(answer.body, dict) else {}
        images: list[Any] = body["images"] if isinstance(body.get("images"), list) else []
        urls = tuple(str(u) for u in [body.get("uri"), *images] if isinstance(u, str))
        progress = body.get("progress")
        operation_id, message_id = entry.operation_id, entry.message_id
        # The endpoint names both only for requests it got to handle; the path says the same for the rest.
        if (operation_id is None or message_id is None) and (found := match_route(routes, entry.method, entry.path)):
            operation_id = operation_id or found[0]
            message_id = message_id or found[1].get("messageId")
        out.append(
            Exchange(
                seq=entry.seq,
                at=entry.at,
                method=entry.method,
                path=entry.path,
                status=answer.status if answer is not None else (entry.status or None),  # journal: 0 = dropped
                operation_id=operation_id,
                message_id=message_id,
                violations=tuple(str(v) for v in entry.violations),
                tags=tuple(entry.tags),
                body=entry.body,
                retry_after=answer.retry_after if answer is not None else None,
                job_status=body.get("status") if isinstance(body.get("status"), str) and "progress" in body else None,
                progress=progress if isinstance(progress, int) else None,
                image_urls=urls,
                malformed=answer.malformed if answer is not None else False,
                job=entry.job,
            )
        )
    return out
