"""Who may use ``/__mock``: the admin API's guard (peer, token, Host, Origin, Content-Type)."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.problems import error_body
from mock_server.web.answers import send_json
from mock_server.web.middleware.auth import bearer_token

# Set in the scope of a shell request served without the admin token: the page then carries no rows.
SHELL_ONLY = "flux_mock.shell_only"


class AdminGuard:
    """Who may use ``/__mock``. It fails closed: a request passes only if every check says yes.

    1. The client: loopback only (the socket's peer; a proxy's ``X-Forwarded-For`` counts only with
       ``--trust-proxy``, see `server.uvicorn_config`), unless ``--admin-token`` is set: then the token, from anyone.
    2. ``Host``: a loopback name (localhost, 127.0.0.1, [::1], any port) or an ``--admin-host``, with or without
       a token. DNS rebinding points a foreign name at 127.0.0.1 from a browser, which would not have the token
       anyway, and a real remote client can be allowed by listing the name it uses.
    3. State-changing methods: no foreign ``Origin``, and a body only as ``application/json``. A browser sends
       ``text/plain`` or form bodies cross-site without asking first; ``application/json`` needs a CORS
       preflight, which the mock never grants.

    `shell` names the GET paths (relative to the mount) that carry no state: the dashboard's page and assets.
    With ``--admin-token`` they are served without it, so the page can load and ask for the token; every other
    check still applies, and in loopback-only mode they stay loopback-only like the rest.
    """

    def __init__(
        self,
        app: ASGIApp,
        token: str | None = None,
        hosts: tuple[str, ...] = (),
        shell: Callable[[str], bool] | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.hosts = frozenset(_split_host(h)[0] for h in hosts)
        self.shell = shell

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = self._problem(scope)
            if problem is not None:
                status, message = problem
                await send_json(send, status, error_body(status, message))
                return
        await self.app(scope, receive, send)

    def _problem(self, scope: Scope) -> tuple[int, str] | None:
        headers = _headers(scope)
        if self.token is not None:
            sent = _token(headers, scope)
            wrong = sent is None or not hmac.compare_digest(sent.encode(), self.token.encode())
            if wrong and not self._is_shell(scope):
                return 401, "The admin API needs the --admin-token: send it as a Bearer token or X-Mock-Admin-Token."
            if wrong:
                scope[SHELL_ONLY] = True  # served as a shell: no state of the mock in it
        else:
            client = scope.get("client")
            if not client or not is_loopback(client[0]):
                peer = client[0] if client else "unknown"
                return (
                    403,
                    f"The admin API answers loopback clients only, and this one is {peer}; start flux-mock with "
                    "--admin-token to allow others.",
                )
        host = headers.get(b"host")
        if not host:
            return 403, "The admin API needs a Host header; send one, e.g. Host: 127.0.0.1:8080."
        name, port = _split_host(host)
        if not is_loopback(name) and name not in self.hosts:
            return (
                403,
                f"The admin API answers requests for a loopback host only (localhost, 127.0.0.1, [::1]); this one "
                f"was for Host {host!r}, as a DNS-rebinding page would send. If you reach flux-mock under that name "
                f"on purpose, start it with --admin-host {name} (env FLUX_MOCK_ADMIN_HOST).",
            )
        if scope["method"] in _SAFE_METHODS:
            return None
        origin = headers.get(b"origin")
        if origin is not None and not self._own_origin(origin, name, port):
            fix = (
                f"if that page is yours, start flux-mock with --admin-host {_origin_host(origin)}"
                if _origin_host(origin)
                else "send it from a script, not from a browser page"
            )
            return (
                403,
                f"The admin API refuses {scope['method']} from another site: Origin {origin!r} is not this server "
                f"({host}); {fix}.",
            )
        if _has_body(headers):
            media = headers.get(b"content-type", "").partition(";")[0].strip().lower()
            if media != "application/json":
                sent = f"Content-Type {headers[b'content-type']!r}" if b"content-type" in headers else "no Content-Type"
                return (
                    415,
                    f"An admin {scope['method']} with a body must be sent as Content-Type: application/json; this "
                    f"one had {sent}. With curl add -H 'Content-Type: application/json'; with httpx or requests "
                    "pass json=.",
                )
        return None

    def _is_shell(self, scope: Scope) -> bool:
        if self.shell is None or scope["method"] not in ("GET", "HEAD"):
            return False
        root = scope.get("root_path", "")
        path: str = scope["path"]
        return self.shell(path[len(root) :] if path.startswith(root) else path)

    def _own_origin(self, origin: str, host_name: str, host_port: str) -> bool:
        # The server's own loopback origin (any loopback name, same port), or a page on an --admin-host.
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest:
            return False  # "null" (sandboxed pages, file://) and anything unparsable: foreign
        name, port = _split_host(rest)
        port = port or ("443" if scheme == "https" else "80")
        return name in self.hosts or (is_loopback(name) and port == (host_port or "80"))


# Methods that change nothing: not checked for Origin or Content-Type (a browser cannot read the answers
# cross-site, since the admin API sends no CORS headers).
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_GUARD_HEADERS = frozenset(
    {b"host", b"origin", b"content-type", b"content-length", b"transfer-encoding", b"authorization"}
    | {b"x-mock-admin-token"}
)


def _headers(scope: Scope) -> dict[bytes, str]:
    # The first of each header the guard reads; latin-1 as the ASGI spec has them.
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _GUARD_HEADERS and name not in found:
            found[name] = value.decode("latin-1").strip()
    return found


def _has_body(headers: dict[bytes, str]) -> bool:
    return b"transfer-encoding" in headers or headers.get(b"content-length", "0") not in ("", "0")


def _split_host(value: str) -> tuple[str, str]:
    """("name", "port") of a Host header or origin authority; the name lower-cased, IPv6 without brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        return name, rest.removeprefix(":")
    if value.count(":") > 1:  # a bare IPv6 address (not valid in Host, but unambiguous)
        return value, ""
    name, _, port = value.partition(":")
    return name.rstrip("."), port


def _origin_host(origin: str) -> str:
    rest = origin.partition("://")[2]
    return _split_host(rest)[0] if rest else ""


def _token(headers: dict[bytes, str], scope: Scope) -> str | None:
    text = headers.get(b"x-mock-admin-token")
    if text:
        return text.strip() or None
    return bearer_token(scope)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1, their IPv4-mapped form (::ffff:127.0.0.1, a dual-stack bind's peer) or localhost."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost"
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return address.is_loopback or (mapped is not None and mapped.is_loopback)
