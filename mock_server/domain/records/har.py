"""HTTP Archive (HAR 1.2) recordings: written by ``flux-mock proxy --record``, read by ``serve --replay`` and ``drift``.

Writing goes through `harfile` (the streaming HAR writer schemathesis uses), reading is plain JSON. A HAR file is
what browsers' devtools, Charles and mitmproxy open, so a recorded session can be inspected with any of them.

Each exchange is written and flushed as it completes, so a proxy killed mid-session (SIGKILL, a crash) leaves a
file that holds every exchange before the kill and lacks only the closing brackets: `read_recording` reads such a
file (dropping a partly written last entry) and says it was cut short; a clean stop writes a valid HAR.

Secrets never reach the file: credential headers (``Authorization`` and friends) keep only their scheme, and the
``--redact`` JSON pointers are replaced in request and response JSON bodies. Arrival times are kept to the
millisecond (``startedDateTime``), so a poll sequence and its pacing are visible.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jsonpointer
import orjson

from mock_server.contract.errors import MockServerError
from mock_server.version import __version__

if TYPE_CHECKING:
    import harfile  # imported by the writer only: `serve` reads recordings, if any, and never writes one

REDACTED = "[REDACTED]"
# Headers that carry credentials: only the scheme (``Bearer``) survives, so a reader still sees how auth was sent.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-mock-admin-token"})


class HarError(MockServerError):
    """Raised when a HAR file cannot be read, or a ``--redact`` pointer is not a JSON pointer."""


@dataclass(frozen=True, slots=True)
class HarEntry:
    """One recorded exchange: the request as sent and the answer as received.

    Attributes:
        started: arrival time, epoch seconds (the recording clock's, so virtual in tests).
        duration_ms: how long the answer took.
        url: the full request URL (query included).
        request_body: the request body bytes (``b""`` when none).
        response_body: the answer body bytes.
    """

    started: float
    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...]
    response_body: bytes
    duration_ms: float = 0.0

    @property
    def path(self) -> str:
        """The URL's path, e.g. ``/api/v1/message/fetch/<id>``."""
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> str:
        """The URL's query string without ``?``."""
        return urlsplit(self.url).query

    def request_header(self, name: str) -> str | None:
        """A request header's value (case-insensitive name), or None."""
        return _header(self.request_headers, name)

    def response_header(self, name: str) -> str | None:
        """A response header's value (case-insensitive name), or None."""
        return _header(self.response_headers, name)

    def request_json(self) -> Any:
        """The request body parsed as JSON; None when empty or not JSON."""
        return _json_or_none(self.request_body)

    def response_json(self) -> Any:
        """The answer parsed as JSON; None when empty or not JSON."""
        return _json_or_none(self.response_body)


def _header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers if k.lower() == wanted), None)


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def check_pointers(pointers: Sequence[str]) -> tuple[jsonpointer.JsonPointer, ...]:
    """Parse ``--redact`` pointers; a HarError names the one that is not a JSON pointer and how to write it."""
    parsed = []
    for text in pointers:
        try:
            parsed.append(jsonpointer.JsonPointer(text))
        except jsonpointer.JsonPointerException as exc:
            raise HarError(f"--redact {text!r} is not a JSON pointer ({exc}); write it as /prompt or /a/0/b.") from None
    return tuple(parsed)


def redact_json(value: Any, pointers: Sequence[jsonpointer.JsonPointer]) -> Any:
    """A copy of `value` with every value found at `pointers` replaced by ``[REDACTED]`` (missing ones ignored)."""
    if not pointers or not isinstance(value, dict | list):
        return value
    out = copy.deepcopy(value)
    for pointer in pointers:
        if pointer.parts and pointer.resolve(out, None) is not None:
            pointer.set(out, REDACTED)
    return out


def redact_headers(headers: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Headers with credentials cut to their scheme: ``Authorization: Bearer [REDACTED]``."""
    out = []
    for name, value in headers:
        if name.lower() in SECRET_HEADERS:
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {REDACTED}" if rest else REDACTED
        out.append((name, value))
    return tuple(out)


def _redact_body(raw: bytes, pointers: Sequence[jsonpointer.JsonPointer]) -> bytes:
    if not pointers:
        return raw
    parsed = _json_or_none(raw)
    return raw if parsed is None else orjson.dumps(redact_json(parsed, pointers))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _content(raw: bytes, mime: str) -> harfile.Content:
    import harfile

    try:
        return harfile.Content(size=len(raw), mimeType=mime, text=raw.decode("utf-8"))
    except UnicodeDecodeError:  # an image: HAR keeps binary content base64-encoded
        return harfile.Content(size=len(raw), mimeType=mime, text=base64.b64encode(raw).decode(), encoding="base64")


class HarRecorder:
    """Append exchanges to a HAR 1.2 file, redacted, each flushed as it is added; `close` finishes the file.

    Before `close` (or after a crash) the file lacks its closing brackets; `read_recording` reads it all the same.

    Example:
        recorder = HarRecorder("session.har", redact=("/prompt",))
        recorder.add(entry)
        recorder.close()
    """

    def __init__(self, target: str | Path | IO[str], *, redact: Sequence[str] = ()) -> None:
        import harfile

        self.pointers = check_pointers(redact)
        creator = harfile.Creator(name="flux-mock", version=__version__)
        try:
            self._har = harfile.open(str(target) if isinstance(target, Path) else target, creator=creator)
        except OSError as exc:
            raise HarError(f"Cannot write the recording {target}: {exc.strerror or exc}.") from None
        self.count = 0

    def add(self, entry: HarEntry) -> None:
        """Write one exchange (credentials and `redact` pointers replaced) and flush it."""
        import harfile

        split = urlsplit(entry.url)
        query = [harfile.Record(name=k, value=v) for k, _, v in (p.partition("=") for p in split.query.split("&") if p)]
        request_mime = _header(entry.request_headers, "content-type") or ""
        post = None
        if entry.request_body:
            text = _redact_body(entry.request_body, self.pointers).decode("utf-8", "replace")
            post = harfile.PostData(mimeType=request_mime, text=text)
        response_mime = _header(entry.response_headers, "content-type") or ""
        body = _redact_body(entry.response_body, self.pointers)
        try:
            phrase = HTTPStatus(entry.status).phrase
        except ValueError:
            phrase = ""
        self._har.add_entry(
            startedDateTime=_iso(entry.started),
            time=round(entry.duration_ms, 3),
            request=harfile.Request(
                method=entry.method,
                url=entry.url,
                httpVersion="HTTP/1.1",
                headers=[harfile.Record(name=k, value=v) for k, v in redact_headers(entry.request_headers)],
                queryString=query,
                postData=post,
                bodySize=len(entry.request_body),
            ),
            response=harfile.Response(
                status=entry.status,
                statusText=phrase,
                httpVersion="HTTP/1.1",
                headers=[harfile.Record(name=k, value=v) for k, v in redact_headers(entry.response_headers)],
                content=_content(body, response_mime),
                bodySize=len(body),
            ),
            timings=harfile.Timings(send=0, wait=round(entry.duration_ms, 3), receive=0),
        )
        self.count += 1
        self._har.flush()

    def close(self) -> None:
        """Finish the file (closing brackets); safe to call twice."""
        self._har.close()


def _entry(source: str, index: int, raw: Any) -> HarEntry:
    where = f"{source}: log.entries[{index}]"
    try:
        request, response = raw["request"], raw["response"]
        started = datetime.fromisoformat(str(raw["startedDateTime"]).replace("Z", "+00:00"))
        content = response.get("content", {})
        text = content.get("text") or ""
        body = base64.b64decode(text) if content.get("encoding") == "base64" else text.encode("utf-8")
        post = request.get("postData") or {}
        return HarEntry(
            started=started.timestamp(),
            method=str(request["method"]).upper(),
            url=str(request["url"]),
            request_headers=tuple((str(h["name"]), str(h["value"])) for h in request.get("headers", [])),
            request_body=str(post.get("text") or "").encode("utf-8"),
            status=int(response["status"]),
            response_headers=tuple((str(h["name"]), str(h["value"])) for h in response.get("headers", [])),
            response_body=body,
            duration_ms=float(raw.get("time") or 0.0),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise HarError(
            f"{where} is not a HAR 1.2 entry ({type(exc).__name__}: {exc}); it needs startedDateTime, "
            "request.method/url/headers and response.status/headers/content."
        ) from None


@dataclass(frozen=True, slots=True)
class Recording:
    """A HAR file as read: its entries, and whether the file was finished (a proxy killed mid-session is not).

    Attributes:
        entries: every complete entry, oldest first.
        complete: False when the closing brackets are missing (the recorder never got to `close`); the entries
            written before the end are read and a partly written last one is dropped.
        dropped: bytes at the end of a cut-short file that were not a complete entry (0 when complete).
    """

    source: str
    entries: list[HarEntry]
    complete: bool = True
    dropped: int = 0

    @property
    def note(self) -> str | None:
        """What a reader should be told about the file (None for a finished one)."""
        if self.complete:
            return None
        tail = f"; the last {self.dropped} bytes (a partly written exchange) were dropped" if self.dropped else ""
        return (
            f"{self.source} was cut short (no closing brackets: the recording proxy did not stop cleanly): "
            f"{len(self.entries)} complete exchange(s) read{tail}."
        )


_ENTRIES = re.compile(rb'"entries"\s*:\s*\[')


def _salvage(source: str, raw: bytes) -> tuple[list[Any], int] | None:
    """The complete entries of a HAR whose writer was killed (entries flushed one by one, no closing brackets),
    and how many bytes at the end were not one; None when the text is not the start of a HAR file."""
    head = _ENTRIES.search(raw, 0, 64 * 1024)
    if head is None or not raw.lstrip().startswith(b"{"):
        return None
    text = raw[head.end() :].decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    found: list[Any] = []
    at = 0
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text) or text[at] == "]":
            return found, 0
        try:
            entry, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            return found, len(text[at:].encode("utf-8"))
        found.append(entry)


def read_recording(path: str | Path) -> Recording:
    """Read a HAR file (`load_har` keeps only the entries), finished or cut short by a crash.

    A recording the proxy could not finish (killed, power cut after the flush) holds every exchange written
    before the end: they are read, and `Recording.note` says the file was cut short.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise HarError(f"Cannot read the recording {source}: {exc.strerror or exc}.") from None
    complete, dropped = True, 0
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        salvaged = _salvage(source, raw) if raw.strip() else ([], 0)
        if salvaged is None:
            raise HarError(f"{source} is not JSON ({exc}); a HAR file is a JSON document with log.entries.") from None
        document, dropped, complete = {"log": {"entries": salvaged[0]}}, salvaged[1], False
    entries = document.get("log", {}).get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise HarError(f"{source} has no log.entries list; is it a HAR file (devtools, Charles, flux-mock --record)?")
    found = [_entry(source, i, raw_entry) for i, raw_entry in enumerate(entries)]
    return Recording(source, sorted(found, key=lambda e: e.started), complete, dropped)


def load_har(path: str | Path) -> list[HarEntry]:
    """Every entry of a HAR file, oldest first (sorted by ``startedDateTime``, ties in file order).

    A file cut short by a crash is read too (`read_recording` says so).
    """
    return read_recording(path).entries
