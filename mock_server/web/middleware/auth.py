"""Bearer auth: the one parser of ``Authorization: Bearer <key>`` and the middleware that requires it."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from mock_server.contract.problems import Violation, unauthorized
from mock_server.web.answers import send_json

_UNSET = object()


def bearer_token(scope: Scope) -> str | None:
    """The Bearer token of the request (scheme case-insensitive, token trimmed), or None.

    Parsed once per request (several middleware ask) and kept in ``scope["state"]``.
    """
    state = scope.setdefault("state", {})
    found = state.get("bearer", _UNSET)
    if found is not _UNSET:
        return found  # type: ignore[no-any-return]
    token: str | None = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            token = bearer_of(value)
            break
    state["bearer"] = token
    return token


def bearer_of(authorization: bytes | None) -> str | None:
    """The token of an ``Authorization`` header's value when its scheme is Bearer (any case), trimmed; else None."""
    if authorization is None:
        return None
    scheme, _, rest = authorization.decode("latin-1").strip().partition(" ")
    rest = rest.strip()
    return rest if scheme.lower() == "bearer" and rest else None


KeyPolicy = Callable[[str | None], bool]


def key_policy(keys: tuple[str, ...]) -> KeyPolicy:
    """Whether a Bearer key is accepted: one of `keys`, or any non-empty key when `keys` is empty."""
    allowed = frozenset(keys)
    if not allowed:
        return lambda key: key is not None
    return lambda key: key in allowed


def has_body(scope: Scope) -> bool:
    """Whether the request says a body follows (a non-zero Content-Length, or chunked)."""
    for name, value in scope["headers"]:
        if (name == b"content-length" and value.strip() not in (b"", b"0")) or name == b"transfer-encoding":
            return True
    return False


# Sent with an answer given before the body was read: the server closes the connection instead of reading
# (or draining) an upload nobody will use.
CLOSE = {"Connection": "close"}


class BearerAuthMiddleware:
    """Require ``Authorization: Bearer <key>``; with a key list, only those keys pass.

    Put on API routes (after routing), so unknown paths answer 404 and wrong methods 405
    whatever the credentials, as NestJS does.
    """

    def __init__(self, app: ASGIApp, keys: tuple[str, ...] = ()) -> None:
        self.app = app
        self.accepts = key_policy(keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = bearer_token(scope)
        if not self.accepts(key):
            # Refused before a byte of the body is read.
            scope.setdefault("state", {})["violations"] = (self._violation(scope, key),)
            await send_json(send, 401, unauthorized().body(), CLOSE if has_body(scope) else None)
            return
        scope.setdefault("state", {})["account"] = key
        await self.app(scope, receive, send)

    @staticmethod
    def _violation(scope: Scope, key: str | None) -> Violation:
        sent = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"authorization"), None)
        if key is None:
            message, hint = "Authorization must be 'Bearer <api key>'", "send the header Authorization: Bearer sk-..."
        else:
            message, hint = "API key is not accepted", "use one of the keys given to flux-mock with --api-key"
        shown = None if sent is None else sent[:12] + ("..." if len(sent) > 12 else "")
        return Violation("header", "/Authorization", "bearerAuth", "Bearer <api key>", shown, message, hint)
