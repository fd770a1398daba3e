"""Sending a complete answer straight to the ASGI server, from middleware and hot endpoints.

One place for it, so every short-circuit answer carries the same Content-Type and Content-Length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.types import Send

JSON = b"application/json"


async def send_body(
    send: Send, status: int, body: bytes, content_type: bytes = JSON, headers: Mapping[str, str] | None = None
) -> None:
    """Send `body` as the whole answer (no Response object: this is on hot paths)."""
    raw = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if headers:
        raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, content: Any, headers: Mapping[str, str] | None = None) -> None:
    """Send `content` serialised as JSON."""
    await send_body(send, status, orjson.dumps(content), headers=headers)
