"""A reusable webhook receiver: an ASGI app that records what arrives, and a helper that serves it.

Tests, the contract kit and users' own tests use it instead of each writing one:

    from mock_server import WebhookReceiver

    with WebhookReceiver(secret="whsec_...") as receiver:        # serves on 127.0.0.1:<free port>
        receiver.reply(500, 500)                                 # script the next answers (then 200)
        ... create a job with {"webhookOverride": receiver.url} ...
        [hook] = receiver.wait_for(1, timeout=5)                 # waits on an event, never polls
        assert hook.json["status"] == "DONE" and hook.verified

`wait_for` blocks the calling thread; from a coroutine on the loop that also runs the mock, use
``await receiver.wait_for_async(...)`` so the deliveries can make progress meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import orjson
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_server.contract.problems import Violation
from mock_server.contract.spec import Spec, load_spec
from mock_server.domain.validation import SchemaValidator

if TYPE_CHECKING:
    from mock_server.run.server import LiveServer

WEBHOOK_SCHEMA_POINTER = "#/webhooks/messageUpdate/post/requestBody/content/application~1json/schema"


@functools.lru_cache(maxsize=4)
def _payload_validator(spec: Spec) -> SchemaValidator:
    return SchemaValidator(spec.resolve(spec.pointer(WEBHOOK_SCHEMA_POINTER)), location="body", name="payload")


def payload_violations(payload: Any, spec: Spec | None = None) -> list[Violation]:
    """What is wrong with a webhook payload per the contract's ``webhooks.messageUpdate`` schema (empty if valid)."""
    return _payload_validator(spec if spec is not None else load_spec()).violations(payload)


@dataclass(frozen=True, slots=True)
class WebhookReply:
    """How the receiver answers one request.

    Attributes:
        status: HTTP status to answer.
        headers: extra response headers (e.g. ``{"Retry-After": "7"}``).
        body: response body.
        delay_s: real seconds to wait before answering (cut short when the receiver stops).
        hang: never answer (until the receiver stops): a receiver that accepted the connection and died.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay_s: float = 0.0
    hang: bool = False


@dataclass(frozen=True, slots=True)
class ReceivedWebhook:
    """One request the receiver got, as it arrived."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float  # wall-clock epoch seconds
    status: int  # what the receiver answered
    verified: bool | None = None  # signature check result; None when the receiver has no secret
    verify_error: str | None = None
    violations: tuple[Violation, ...] = ()  # schema problems, when the receiver validates payloads

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None when it is not JSON)."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None

    @property
    def delivery_id(self) -> str | None:
        """The X-Mock-Delivery-Id header."""
        return self.headers.get("x-mock-delivery-id")

    @property
    def attempt(self) -> int | None:
        """The X-Mock-Attempt header as a number."""
        value = self.headers.get("x-mock-attempt")
        return int(value) if value is not None and value.isdigit() else None


Predicate = Callable[[ReceivedWebhook], bool]


class WebhookRecorder:
    """Thread-safe store of arrivals plus the scripted replies; the state behind `receiver_app`."""

    def __init__(
        self, *, secret: str | None = None, validate: bool = False, default: WebhookReply | None = None
    ) -> None:
        self.secret = secret
        self.validate = validate
        self.default = default or WebhookReply(200)
        self._arrivals: list[ReceivedWebhook] = []
        self._script: deque[WebhookReply] = deque()
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._release: asyncio.Event | None = None

    def next_reply(self) -> WebhookReply:
        """The next scripted reply, or the default."""
        with self._changed:
            return self._script.popleft() if self._script else self.default

    def script(self, replies: list[WebhookReply]) -> None:
        """Answer the next requests with `replies`, in order, then with the default."""
        with self._changed:
            self._script.extend(replies)

    def record(self, arrival: ReceivedWebhook) -> None:
        """Store one arrival and wake waiters."""
        with self._changed:
            self._arrivals.append(arrival)
            self._changed.notify_all()

    def arrivals(self, predicate: Predicate | None = None) -> list[ReceivedWebhook]:
        """Arrivals so far (optionally only matching ones), oldest first."""
        with self._changed:
            items = list(self._arrivals)
        return [a for a in items if predicate is None or predicate(a)]

    def wait_for(
        self, count: int = 1, *, predicate: Predicate | None = None, timeout: float = 5.0
    ) -> list[ReceivedWebhook]:
        """Block until at least `count` matching arrivals (TimeoutError after `timeout` s); returns them all."""

        def enough() -> bool:
            return sum(1 for a in self._arrivals if predicate is None or predicate(a)) >= count

        with self._changed:
            ok = self._changed.wait_for(enough, timeout)
        found = self.arrivals(predicate)
        if not ok:
            raise TimeoutError(
                f"webhook receiver got {len(found)} matching request(s) within {timeout} s; expected {count}"
            )
        return found

    def clear(self) -> None:
        """Forget arrivals and scripted replies."""
        with self._changed:
            self._arrivals.clear()
            self._script.clear()

    async def hold(self, reply: WebhookReply) -> None:
        """Wait as the reply says (delay or hang), returning early once `release()` is called."""
        if not reply.hang and reply.delay_s <= 0:
            return
        if self._release is None:
            self._loop = asyncio.get_running_loop()
            self._release = asyncio.Event()
        timeout = None if reply.hang else reply.delay_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._release.wait(), timeout)

    def release(self) -> None:
        """Let every held request answer now (called from any thread, e.g. before stopping)."""
        loop, event = self._loop, self._release
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    def check(self, body: bytes, headers: dict[str, str]) -> tuple[bool | None, str | None, tuple[Violation, ...]]:
        """Signature and schema verdicts for one request."""
        verified: bool | None = None
        error: str | None = None
        if self.secret is not None:
            try:
                Webhook(self.secret).verify(body, headers)
                verified = True
            except Exception as exc:  # any failure to verify is a verdict, not a crash of the receiver
                verified, error = False, f"{type(exc).__name__}: {exc}"
        violations: tuple[Violation, ...] = ()
        if self.validate:
            try:
                violations = tuple(payload_violations(orjson.loads(body)))
            except orjson.JSONDecodeError as exc:
                violations = (Violation("body", "", "json", "JSON", None, f"body is not JSON: {exc}", "send JSON"),)
        return verified, error, violations


def receiver_app(recorder: WebhookRecorder) -> Starlette:
    """An ASGI app that records every request to any path and answers per the recorder's script."""

    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        reply = recorder.next_reply()
        verified, error, violations = recorder.check(body, headers)
        recorder.record(
            ReceivedWebhook(
                method=request.method,
                path=request.url.path,
                headers=headers,
                body=body,
                received_at=time.time(),
                status=reply.status,
                verified=verified,
                verify_error=error,
                violations=violations,
            )
        )
        await recorder.hold(reply)
        return Response(reply.body, status_code=reply.status, headers=reply.headers)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", receive, methods=methods)])


class WebhookReceiver:
    """Serve a recording webhook receiver on an ephemeral 127.0.0.1 port (background thread).

    Args:
        secret: verify Standard Webhooks signatures with this secret and record the verdict.
        validate: check every payload against the contract's ``webhooks`` schema and record violations.
        path: the path part of `url`.
        default: the answer when nothing is scripted (200 with an empty body).
    """

    def __init__(
        self,
        *,
        secret: str | None = None,
        validate: bool = False,
        path: str = "/webhook",
        default: WebhookReply | None = None,
    ) -> None:
        self.recorder = WebhookRecorder(secret=secret, validate=validate, default=default)
        self.path = path if path.startswith("/") else f"/{path}"
        # Imported here: server.py imports the app, which imports this package (a cycle at import time).
        from mock_server.run.server import LiveServer

        self._server: LiveServer = LiveServer(receiver_app(self.recorder))

    @property
    def url(self) -> str:
        """Where to send webhooks, e.g. http://127.0.0.1:54321/webhook."""
        return f"{self._server.url}{self.path}"

    @property
    def base_url(self) -> str:
        """The receiver's origin."""
        return self._server.url

    def start(self) -> WebhookReceiver:
        """Start serving (returns when the port accepts connections)."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Release held requests and stop serving."""
        self.recorder.release()
        self._server.stop()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reply(self, *replies: WebhookReply | int) -> None:
        """Script the next answers: statuses (``500``) or `WebhookReply` objects; afterwards the default again."""
        self.recorder.script([r if isinstance(r, WebhookReply) else WebhookReply(r) for r in replies])

    @property
    def arrivals(self) -> list[ReceivedWebhook]:
        """Every request received so far, oldest first."""
        return self.recorder.arrivals()

    def wait_for(
        self, count: int = 1, *, predicate: Predicate | None = None, timeout: float = 5.0
    ) -> list[ReceivedWebhook]:
        """Block until `count` matching requests arrived; TimeoutError after `timeout` seconds."""
        return self.recorder.wait_for(count, predicate=predicate, timeout=timeout)

    async def wait_for_async(
        self, count: int = 1, *, predicate: Predicate | None = None, timeout: float = 5.0
    ) -> list[ReceivedWebhook]:
        """`wait_for` for coroutines: waits in a worker thread so the caller's event loop keeps running."""
        return await asyncio.to_thread(self.recorder.wait_for, count, predicate=predicate, timeout=timeout)

    def clear(self) -> None:
        """Forget arrivals and scripted replies."""
        self.recorder.clear()
