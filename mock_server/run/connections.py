"""Connection limits of a served mock: head size and header count, head and body timeouts, open connections.

Why a subclass of uvicorn's `HttpToolsProtocol`, and not uvicorn's options or another server:
- The httptools protocol (uvicorn's fastest, and what the benchmark measures) has no header limits, and
  llhttp underneath has none either. httptools also buffers a long header value by concatenation, so a
  100 MiB header costs quadratic CPU on the server's only event loop and every other client stalls
  (measured here: feeding a 16 MiB header value takes 1.3 s).
- uvicorn's own knobs do not cover these cases: `h11_max_incomplete_event_size` limits the h11 parser only
  (about half as fast per request as httptools); `timeout_keep_alive` is armed only after a response and
  any byte cancels it, so silent and slow-header connections never time out; `limit_concurrency` answers 503
  only once a request head is complete, so connections that never finish a head are never refused.
- hypercorn or granian would be a new dependency and a different server under every test and the benchmark.

So `limited_protocol(limits)` builds a subclass that tracks, per connection, a phase (waiting for a head,
receiving a body, busy) and when it began (a connection's first head: at connect; later phases: stamped by the
next sweep). One sweep per server closes the connections that overstayed a phase, so there is no timer and no
clock read per request. A request whose body is all in has ended its body phase: uvicorn's own flag
(`cycle.more_body`) says so, and the next chunk that arrives begins a new head, so the hot path overrides only
the parser callbacks it must (every Python call it adds costs each request ~1% of a create). The head's
bytes are counted as they arrive (431 once it is over `max_header_bytes` and still unfinished), headers are
counted when the head ends, and a connection over `max_connections` is answered 503 and closed when it is
accepted. Refusals and timeouts are logged in aggregate, one line per cause per second at most.

An answer given before the body was read (401, 413: `Connection: close`) is followed by a lingering close, as
nginx does: the server shuts its sending side, then reads and discards what the client still sends, for at most
``--linger-s`` and ``--linger-bytes``, and closes when the client does. Closing at once would leave unread bytes
in the socket, and the kernel would answer them with a reset that clients writing the whole body before reading
(urllib, Java's HttpURLConnection) see instead of the status.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
import orjson
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from mock_server.config.settings import Settings
from mock_server.contract.problems import error_body

# Log where uvicorn logs, so the lines look like its own and follow --log-level.
logger = logging.getLogger("uvicorn.error")

# Waiting for (the rest of) a request head; its body (over once `cycle.more_body` is off: then the app or idle);
# refused (closing); discarding after an early answer.
_HEAD, _BODY, _BUSY, _LINGER = 0, 1, 2, 3
# A phase that began after the last sweep: the sweep stamps it, so requests need no clock read. A timeout
# then fires between its length and its length plus one tick after the phase began.
_UNSEEN = -1.0
FLUSH_S = 1.0  # one log line per cause per this many seconds, however many connections it concerns
FD_HEADROOM = 64  # descriptors kept for the listening socket, webhooks, files and logging


@dataclass(frozen=True, slots=True)
class Limits:
    """What one connection may do; from `Settings` (``--max-header-bytes`` and friends)."""

    max_header_bytes: int
    max_headers: int
    head_timeout_s: float
    body_timeout_s: float
    max_connections: int
    linger_s: float = 10.0
    linger_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits a server started with `settings` enforces."""
        return cls(
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
            head_timeout_s=settings.head_timeout_s,
            body_timeout_s=settings.body_timeout_s,
            max_connections=settings.max_connections,
            linger_s=settings.linger_s,
            linger_bytes=settings.linger_bytes,
        )

    @property
    def tick_s(self) -> float:
        """How often the sweep looks: a fifth of the shorter timeout, from 50 ms to 1 s."""
        return min(1.0, max(0.05, min(self.head_timeout_s, self.body_timeout_s) / 5))

    def sentence(self, cause: str, count: int) -> str:
        """The aggregated log line for `count` connections closed for `cause`."""
        n = f"{count} connection{'s' if count != 1 else ''}"
        return {
            "head_timeout": f"closed {n} that did not send a request head within {self.head_timeout_s:g} s "
            "(--head-timeout-s)",
            "body_timeout": f"closed {n} that did not send a request body within {self.body_timeout_s:g} s "
            "(--body-timeout-s)",
            "header_bytes": f"answered 431 and closed {n} whose request head was over {self.max_header_bytes} "
            "bytes (--max-header-bytes)",
            "header_count": f"answered 431 and closed {n} that sent more than {self.max_headers} headers "
            "(--max-headers)",
            "connections": f"answered 503 and closed {n} over the limit of {self.max_connections} open "
            "connections (--max-connections)",
        }[cause]

    def answer(self, cause: str, status: int, detail: str = "") -> bytes:
        """A whole HTTP response (NestJS error body, Connection: close) saying what was wrong and the fix."""
        message = {
            "head_timeout": f"The request head did not arrive within {self.head_timeout_s:g} s. Send the whole "
            "head at once, or start flux-mock with a larger --head-timeout-s.",
            "body_timeout": f"The request body did not arrive within {self.body_timeout_s:g} s. Send it at once, "
            "or start flux-mock with a larger --body-timeout-s.",
            "header_bytes": f"The request head (request line and headers) is over {self.max_header_bytes} bytes. "
            "Send smaller headers, or start flux-mock with a larger --max-header-bytes.",
            "header_count": f"The request has {detail} headers, more than {self.max_headers}. Send fewer, or start "
            "flux-mock with a larger --max-headers.",
            "connections": f"flux-mock already has {self.max_connections} open connections. Retry later, close "
            "idle connections, or start flux-mock with a larger --max-connections.",
        }[cause]
        body = orjson.dumps(error_body(status, message))
        head = b"content-type: application/json\r\nconnection: close\r\ncontent-length: %d\r\n\r\n" % len(body)
        return STATUS_LINE[status] + head + body


class _Watch:
    """One server's sweep over its connections and its tally of refusals (the log lines)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.counts: dict[str, int] = {}
        self._sweeping = False
        self._flushing = False

    def watch(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        """Sweep `connections` every tick while there are any (started again by the next connection)."""
        if not self._sweeping:
            self._sweeping = True
            loop.call_later(self.limits.tick_s, self._sweep, loop, connections)

    def _sweep(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        now = loop.time()
        limits = self.limits
        head_started, body_started = now - limits.head_timeout_s, now - limits.body_timeout_s
        linger_started = now - limits.linger_s
        for conn in list(connections):
            if isinstance(conn, LimitedHttpToolsProtocol):
                conn.expire(now, head_started, body_started, linger_started)
        if connections:
            loop.call_later(self.limits.tick_s, self._sweep, loop, connections)
        else:
            self._sweeping = False  # a stopped server leaves no timer behind

    def note(self, loop: asyncio.AbstractEventLoop, cause: str) -> None:
        """Count one refusal; the log line follows within `FLUSH_S`."""
        self.counts[cause] = self.counts.get(cause, 0) + 1
        if not self._flushing:
            self._flushing = True
            loop.call_later(FLUSH_S, self.flush)

    def flush(self) -> None:
        """Log one line per cause counted since the last flush."""
        self._flushing = False
        for cause, count in self.counts.items():
            logger.warning(self.limits.sentence(cause, count))
        self.counts.clear()


class _Refused(Exception):
    """Raised from a parser callback to stop parsing; `data_received` answers."""


class _Closing:
    """The transport a request's cycle writes to: an answer's head and body go out in one write, and closing it
    while the request's body is still coming lingers instead.

    uvicorn writes the head of an answer, then its body, each at once: two segments and two system calls per
    answer. A head that declares a Content-Length is held for the body that follows it (at most until the next
    write or close); any other head (chunked: an event stream; an answer to HEAD, which has no body) goes at once.
    """

    __slots__ = ("conn", "first", "held", "transport")

    def __init__(self, conn: LimitedHttpToolsProtocol, transport: asyncio.Transport, method: str) -> None:
        self.conn = conn
        self.transport = transport
        self.held: bytes | None = None
        self.first = method != "HEAD"  # the next write is a head to hold (uvicorn writes no body after HEAD's)

    def write(self, data: bytes) -> None:
        held = self.held
        if held is not None:
            self.held = None
            data = held + data
        elif self.first and data != _CONTINUE:
            self.first = False
            if data.find(b"\r\ncontent-length: ") >= 0:  # not `in`: see `FastLane`
                self.held = data
                return
        self.transport.write(data)

    def close(self) -> None:
        if self.held is not None:
            self.write(b"")
        if self.conn.receiving_body() and not self.transport.is_closing():
            self.conn.linger()
        else:
            self.transport.close()

    def is_closing(self) -> bool:
        return self.conn.phase == _LINGER or self.transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus `Limits`; build one per server with `limited_protocol`."""

    limits: ClassVar[Limits]
    tally: ClassVar[_Watch]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.phase = _HEAD
        self.phase_since = 0.0
        self.head_bytes = 0  # bytes received since the current head began (an upper bound)
        self.lingered = 0  # bytes discarded since an early answer
        self.refusal: tuple[str, int, str] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Accept the connection, or answer 503 and close it when the server is full."""
        if len(self.connections) >= self.limits.max_connections:
            self.transport = transport  # connection_lost closes it again; nothing else was set up
            self.phase = _BUSY
            transport.write(self.limits.answer("connections", 503))
            transport.close()
            self.tally.note(self.loop, "connections")
            return
        super().connection_made(transport)
        self.phase_since = self.loop.time()  # the first head's clock starts at connect: silent peers time out too
        self.tally.watch(self.loop, self.connections)

    def data_received(self, data: bytes) -> None:
        """uvicorn's `data_received`, counting head bytes and answering limit refusals."""
        # Copied rather than delegated, so the hot path costs no extra call; keep in step with uvicorn.
        self._unset_keepalive_if_required()
        phase = self.phase
        if phase == _HEAD:
            self.head_bytes += len(data)
        elif phase == _LINGER:
            self.discard(len(data))
            return
        elif phase != _BODY or self.cycle is None or not self.cycle.more_body:  # not `receiving_body()`: a call
            # The last request is all in: these bytes begin the next head.
            self.phase = _HEAD
            self.phase_since = _UNSEEN
            self.head_bytes = len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self.refusal is not None:
                self.refuse(*self.refusal)
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        # Still inside one head after taking the whole chunk: the head is over the limit. Refusing now bounds
        # what httptools buffers to the limit plus one read.
        if self.phase == _HEAD and self.head_bytes > self.limits.max_header_bytes:
            self.refuse("header_bytes", 431)

    def on_headers_complete(self) -> None:
        """Check the header count (and the exact head size when the byte count says it may be over)."""
        limits = self.limits
        if len(self.headers) > limits.max_headers:
            self.refusal = ("header_count", 431, str(len(self.headers)))
            raise _Refused
        if self.head_bytes > limits.max_header_bytes and _head_size(self.url, self.headers) > limits.max_header_bytes:
            self.refusal = ("header_bytes", 431, "")
            raise _Refused
        self.phase = _BODY
        self.phase_since = _UNSEEN
        HttpToolsProtocol.on_headers_complete(self)
        if self.cycle is not None:
            self.cycle.transport = _Closing(self, self.transport, self.cycle.scope["method"])  # type: ignore[assignment]

    def receiving_body(self) -> bool:
        """Whether a request's body is still arriving (its head is in, not yet all of its body)."""
        cycle = self.cycle
        return self.phase == _BODY and cycle is not None and cycle.more_body

    def linger(self) -> None:
        """The answer went out before the body was read: stop sending, discard what comes, close when told."""
        self.phase = _LINGER
        self.phase_since = _UNSEEN
        self.lingered = 0
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()  # the client sees the answer end; its upload can go on until it reads it
        self.flow.resume_reading()  # uvicorn pauses reading while the app does not read the body
        # uvicorn calls the cycle's `on_response` after closing: while lingering, reading goes on (discarding)
        # and no keep-alive timer is armed. The cycle answering early is the newest: no later head can be in.
        if self.cycle is not None:
            self.cycle.on_response = self.flow.resume_reading

    def discard(self, size: int) -> None:
        """Drop `size` lingering bytes; close once over ``--linger-bytes``."""
        self.lingered += size
        if self.lingered > self.limits.linger_bytes:
            self.transport.close()

    def shutdown(self) -> None:
        """uvicorn is stopping: log what is tallied now, as the pending flush may never run."""
        if self.tally.counts:
            self.tally.flush()
        super().shutdown()

    def expire(self, now: float, head_started: float, body_started: float, linger_started: float) -> None:
        """Close the connection if its head, body or lingering close began before the given times."""
        if self.phase_since == _UNSEEN:
            self.phase_since = now  # the phase began since the last sweep
        elif self.phase == _HEAD and self.phase_since < head_started:
            self.refuse("head_timeout", 408, silent=self.head_bytes == 0)
        elif self.phase_since < body_started and self.receiving_body():
            started = self.cycle is not None and self.cycle.response_started
            self.refuse("body_timeout", 408, silent=started)
        elif self.phase == _LINGER and self.phase_since < linger_started:
            self.transport.close()

    def refuse(self, cause: str, status: int, detail: str = "", *, silent: bool = False) -> None:
        """Answer `status` (unless `silent`: nothing was asked, or an answer is under way), close, count."""
        self.phase = _BUSY
        self.refusal = None
        if not self.transport.is_closing():
            if not silent:
                self.transport.write(self.limits.answer(cause, status, detail))
            self.transport.close()
        self.tally.note(self.loop, cause)


def _head_size(url: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    # A lower bound of the head's size on the wire ("NAME: VALUE\r\n" per header, the request line), for
    # the rare head that crossed the byte limit in the chunk that also ended it.
    return len(url) + 16 + sum(len(name) + len(value) + 4 for name, value in headers)


def limited_protocol(limits: Limits) -> type[LimitedHttpToolsProtocol]:
    """A protocol class for one server (pass it as uvicorn's ``http``): its own limits, sweep and tally."""
    return type(
        "FluxMockHttpProtocol",
        (LimitedHttpToolsProtocol,),
        {"limits": limits, "tally": _Watch(limits), "__module__": __name__},
    )


def fd_problem(max_connections: int) -> str | None:
    """Raise the soft open-file limit to fit `max_connections`; a warning if even the hard limit is short."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max_connections + FD_HEADROOM
    if soft >= need or soft == resource.RLIM_INFINITY:
        return None
    target = need if hard == resource.RLIM_INFINITY else min(need, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        target = soft
    if target >= need:
        return None
    return (
        f"warning: --max-connections {max_connections} needs {need} open files but the limit is {target}; "
        f"clients past ~{max(target - FD_HEADROOM, 0)} connections would be cut off without an answer. "
        f"Lower --max-connections or raise `ulimit -n`."
    )
