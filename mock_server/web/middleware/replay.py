"""`ReplayMiddleware` (``serve --replay FILE.har``): answer recorded requests with their recorded answers.

A request matches entries with the same method, path and query; among those, one whose body is the same JSON is
preferred (so two different creates get their own answers), else the next unused one (a recorded body may have
been redacted). Repeats get the recorded answers in order, so a poll sequence replays as it was recorded; once
they are used up the last one is repeated (a final DONE stays DONE). A request never recorded falls through to
the mock (``--replay-miss mock``) or is a 404 that names the file (``--replay-miss 404``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.problems import error_body
from mock_server.contract.spec import ADMIN_PREFIX
from mock_server.domain.records.har import HarEntry
from mock_server.web.answers import send_json
from mock_server.web.bodies import read_body
from mock_server.web.middleware.journal import add_tag

# Per connection, or recomputed for the body sent here: never replayed.
_SKIP = frozenset({b"content-length", b"transfer-encoding", b"connection", b"content-encoding", b"keep-alive"})


def _canonical(raw: bytes) -> Any:
    try:
        return orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS) if raw else b""
    except orjson.JSONDecodeError:
        return raw


class ReplayMiddleware:
    """Serve answers from a HAR recording, in recorded order per request."""

    def __init__(self, app: ASGIApp, entries: list[HarEntry], source: str, miss: str = "404", max_body: int = 1 << 20):
        self.app = app
        self.source = source
        self.miss = miss
        self.max_body = max_body
        self._queues: dict[tuple[str, str, str], list[HarEntry]] = defaultdict(list)
        for entry in entries:
            self._queues[(entry.method, entry.path, entry.query)].append(entry)
        self._used: dict[tuple[str, str, str], set[int]] = defaultdict(set)
        self._last: dict[tuple[str, str, str], HarEntry] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"))
        if key not in self._queues:
            if self.miss == "mock":
                add_tag(scope, "replay-miss")
                await self.app(scope, receive, send)
                return
            text = f"{key[0]} {key[1]} is not in the recording {self.source}; record it, or use --replay-miss mock"
            await send_json(send, 404, error_body(404, text))
            return
        receive, raw = await read_body(receive, self.max_body)
        entry = self._next(key, _canonical(raw or b""))
        add_tag(scope, f"replayed:{entry.started:.3f}")
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in entry.response_headers]
        headers = [(k, v) for k, v in headers if k not in _SKIP]
        headers.append((b"content-length", str(len(entry.response_body)).encode()))
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.response_body})

    def _next(self, key: tuple[str, str, str], body: Any) -> HarEntry:
        queue, used = self._queues[key], self._used[key]
        free = [i for i in range(len(queue)) if i not in used]
        same = [i for i in free if _canonical(queue[i].request_body) == body]
        chosen = same[0] if same else free[0] if free else None
        if chosen is None:
            return self._last[key]  # used up: the last answer again
        used.add(chosen)
        self._last[key] = queue[chosen]
        return queue[chosen]
