"""Reading a request body once, bounded, and handing it on: the one body reader of the mock.

`SelectionMiddleware` reads a create's body to find prompt directives and the endpoint reads it again;
`Replay` gives the endpoint the messages already read, so the body crosses the socket once.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Message, Receive

BODY_EXCERPT = 4096  # as much of a body as the journal keeps


def note_body(state: dict[str, Any], raw: bytes) -> None:
    """Keep the body's first `BODY_EXCERPT` bytes for the journal (as ``state["body"]``); it decodes them only when
    someone reads the entry (a short body is not even copied)."""
    state["body"] = raw[:BODY_EXCERPT]


class Replay:
    """A receive callable that first hands back the messages already read, then defers to `original`."""

    def __init__(self, messages: list[Message], original: Receive, whole: bytes | None = None) -> None:
        self._pending = list(messages)
        self.original = original
        self.whole = whole  # the complete body these messages hold, when known and not yet handed out

    async def __call__(self) -> Message:
        if self._pending:
            return self._pending.pop(0)
        return await self.original()


async def read_body(receive: Receive, limit: int) -> tuple[Receive, bytes | None]:
    """Read the whole body; returns a receive that replays it and the bytes (None: over `limit`).

    A client that goes away mid-body leaves the bytes that arrived (no JSON parser accepts them).

    Reading stops as soon as `limit` is passed, so an oversized upload is not buffered.
    """
    if isinstance(receive, Replay) and receive.whole is not None and len(receive._pending) == 1:
        return receive, (receive.whole if len(receive.whole) <= limit else None)  # read before, untouched since
    first = await receive()
    if first["type"] == "http.request" and not first.get("more_body", False):
        body: bytes = first.get("body", b"")  # the usual case: the whole body in one message
        return Replay([first], receive, body), (body if len(body) <= limit else None)
    messages: list[Message] = [first]
    if first["type"] != "http.request":
        return Replay(messages, receive), b""
    size, more = len(first.get("body", b"")), True
    while more and size <= limit:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":  # the client went away mid-body
            more = False
            break
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    raw = None
    if not more and size <= limit:
        raw = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    return Replay(messages, receive), raw


def original_receive(receive: Receive) -> Receive:
    """The server's own receive callable behind any replaying wrappers."""
    while hasattr(receive, "original"):
        receive = receive.original
    return receive
