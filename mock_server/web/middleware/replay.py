"""`ReplayMiddleware` (``serve --replay FILE.har``): answer recorded requests with their recorded answers.

A request matches the entries with the same method, path, query and body (JSON compared as values, so key order
and spacing do not count; a value the proxy redacted, ``[REDACTED]``, matches any value). Repeats get the
recorded answers in order, so a poll sequence replays as it was recorded; once they are used up the last one is
repeated (a final DONE stays DONE). A request that matches nothing recorded falls through to the mock
(``--replay-miss mock``) or is a 404 that names the file and the closest recorded request, and what differs
(``--replay-miss 404``, the default): never another request's answer.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.problems import error_body
from mock_server.contract.spec import ADMIN_PREFIX
from mock_server.domain.records.har import REDACTED, HarEntry
from mock_server.web.answers import send_json
from mock_server.web.bodies import read_body
from mock_server.web.middleware.journal import add_tag

# Per connection, or recomputed for the body sent here: never replayed.
_SKIP = frozenset({b"content-length", b"transfer-encoding", b"connection", b"content-encoding", b"keep-alive"})
_ABSENT = object()
Key = tuple[str, str, str]


def _value(raw: bytes) -> Any:
    """A body as a JSON value (bytes when it is not JSON; ``None`` for no body)."""
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw


def same_body(recorded: Any, sent: Any) -> bool:
    """Whether a sent body matches a recorded one: equal JSON values, a recorded ``[REDACTED]`` matching any."""
    if recorded == REDACTED:
        return True
    if isinstance(recorded, dict) and isinstance(sent, dict):
        return recorded.keys() == sent.keys() and all(same_body(v, sent[k]) for k, v in recorded.items())
    if isinstance(recorded, list) and isinstance(sent, list):
        return len(recorded) == len(sent) and all(same_body(r, s) for r, s in zip(recorded, sent, strict=True))
    return bool(recorded == sent) and type(recorded) is type(sent)


def body_differences(recorded: Any, sent: Any, pointer: str = "") -> list[str]:
    """Where two bodies differ, as ``/pointer recorded X, sent Y`` (``absent`` for a missing member)."""
    if same_body(recorded, sent):
        return []
    if isinstance(recorded, dict) and isinstance(sent, dict):
        out: list[str] = []
        for name in [*recorded, *(k for k in sent if k not in recorded)]:
            out += body_differences(recorded.get(name, _ABSENT), sent.get(name, _ABSENT), f"{pointer}/{name}")
        return out
    return [f"{pointer or '(the whole body)'} recorded {_show(recorded)}, sent {_show(sent)}"]


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "absent"
    if value is None:
        return "no body"
    text = value.decode("latin-1") if isinstance(value, bytes) else orjson.dumps(value).decode()
    return text if len(text) <= 40 else text[:39] + "…"


class ReplayMiddleware:
    """Serve answers from a HAR recording, in recorded order per request (method, path, query and body)."""

    def __init__(self, app: ASGIApp, entries: list[HarEntry], source: str, miss: str = "404", max_body: int = 1 << 20):
        self.app = app
        self.source = source
        self.miss = miss
        self.max_body = max_body
        self.entries = entries
        self._queues: dict[Key, list[tuple[Any, HarEntry]]] = defaultdict(list)
        for entry in entries:
            self._queues[(entry.method, entry.path, entry.query)].append((_value(entry.request_body), entry))
        self._used: dict[Key, set[int]] = defaultdict(set)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        key = (scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"))
        receive, raw = await read_body(receive, self.max_body)
        body = _value(raw or b"")
        entry = self._next(key, body)
        if entry is None:
            if self.miss == "mock":
                add_tag(scope, "replay-miss")
                await self.app(scope, receive, send)
                return
            await send_json(send, 404, error_body(404, self.miss_message(key, body)))
            return
        add_tag(scope, f"replayed:{entry.started:.3f}")
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in entry.response_headers]
        headers = [(k, v) for k, v in headers if k not in _SKIP]
        headers.append((b"content-length", str(len(entry.response_body)).encode()))
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.response_body})

    def _next(self, key: Key, body: Any) -> HarEntry | None:
        queue, used = self._queues.get(key, []), self._used[key]
        same = [i for i, (recorded, _) in enumerate(queue) if same_body(recorded, body)]
        if not same:
            return None
        free = [i for i in same if i not in used]
        chosen = free[0] if free else same[-1]  # used up: the last answer again
        used.add(chosen)
        return queue[chosen][1]

    def miss_message(self, key: Key, body: Any) -> str:
        """The 404's text: what was sent, that the recording lacks it, the closest recorded request and the fix."""
        method, path, query = key
        sent = f"{method} {path}" + (f"?{query}" if query else "")
        text = f"{sent} (with this body) is not in the recording {self.source}"
        closest = self._closest(key, body)
        if closest is not None:
            text += f"; the closest recorded request is {closest}"
        return (
            text + ". Send a recorded request, record this one, or start with --replay-miss mock for the mock's answer."
        )

    def _closest(self, key: Key, body: Any) -> str | None:
        method, path, query = key
        best: tuple[float, str] | None = None
        for (r_method, r_path, r_query), queue in self._queues.items():
            recorded = f"{r_method} {r_path}" + (f"?{r_query}" if r_query else "")
            differs: list[str] = []
            score = 0.0
            if r_method != method:
                differs.append(f"method: recorded {r_method}, sent {method}")
                score += 1
            if r_path != path:
                differs.append(f"path: recorded {r_path}, sent {path}")
                score += 2 - difflib.SequenceMatcher(None, r_path, path).ratio()
            if r_query != query:
                differs.append(f"query: recorded {r_query!r}, sent {query!r}")
                score += 0.5
            diffs = min((body_differences(b, body) for b, _ in queue), key=len)
            if diffs:
                score += min(len(diffs), 5) / 10
                shown = "; ".join(diffs[:3]) + (f"; and {len(diffs) - 3} more" if len(diffs) > 3 else "")
                differs.append(f"body: {shown}")
            if best is None or score < best[0]:
                best = (score, f"{recorded} ({', '.join(differs)})")
        return best[1] if best is not None else None
