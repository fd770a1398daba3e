"""Every JSON answer the mock sends: `json_response` (a Starlette `Response`) for routes, `send_json` and
`send_body` (straight to the ASGI server, no Response object) for middleware and hot endpoints.

One place for it, so every answer carries the same Content-Type and Content-Length and the same encoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response
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


def json_response(content: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """orjson-encoded JSON answer (several times faster than json.dumps)."""
    return Response(orjson.dumps(content), status_code=status, headers=headers, media_type=JSON.decode())


async def send_json(send: Send, status: int, content: Any, headers: Mapping[str, str] | None = None) -> None:
    """Send `content` serialised as JSON."""
    await send_body(send, status, orjson.dumps(content), headers=headers)
