"""Running the app on a real socket: blocking `run()` and a background `LiveServer`."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

import uvicorn

from mock_server.config.settings import Settings
from mock_server.contract.spec import ADMIN_PREFIX
from mock_server.domain.clock import Clock
from mock_server.run.connections import fd_problem
from mock_server.run.listener import bind_socket, uvicorn_config
from mock_server.run.workers import Workers

# The web app, the pacing and the HAR reader are imported where they are used: the banner's helpers only when
# they apply, and the app only by a process that serves it (`workers` decides what the parent of --workers N has).
if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp

    from mock_server.domain.pacing import Pacing


def banner(settings: Settings, pacing: Pacing | None = None) -> str:
    """The start-up text: where the mock is, how to point a client at it, and what ``--pace-from`` paces."""
    from mock_server.domain.kinds import KINDS

    url = settings.base_url
    key = settings.api_keys[0] if settings.api_keys else "sk-anything"
    admin = "needs --admin-token" if settings.admin_token else "loopback clients only"
    paced = "; recorded kinds as recorded, below" if pacing is not None and pacing.sources else ""
    try_lines = (
        _replay_lines(settings, key)
        if settings.replay
        else [
            f"  try: curl -s -X POST {url}/api/v1/flux/imagine -H 'Authorization: Bearer {key}' "
            "-H 'Content-Type: application/json' -d '{\"prompt\": \"a red fox\"}'",
            f"  then: curl -s {url}/api/v1/message/fetch/<messageId> -H 'Authorization: Bearer {key}'",
        ]
    )
    return "\n".join(
        [
            f"flux-mock serving the ImaginePro API (Flux, Midjourney, tools, video) at {url}",
            f"  point your client at it: IMAGINEPRO_BASE_URL={url}  (API key: {key})",
            *try_lines,
            f"  jobs take {settings.job_seconds:g} s (--job-seconds{paced}); seed {settings.seed}; Ctrl+C stops.",
            *(pacing.describe(KINDS, settings.job_seconds) if pacing is not None else []),
            f"  state: {settings.store}" + (f", {settings.workers} workers" if settings.workers > 1 else ""),
            f"  dashboard (live jobs, requests, webhooks, controls): {url}/__mock/ui",
            f"  QA switchboard: {url}/__mock/health, scenarios at {url}/__mock/scenarios "
            f"(admin API spec: {url}/__mock/openapi.yaml; {admin})",
            *_exposed_notes(settings),
        ]
    )


def _replay_lines(settings: Settings, key: str) -> list[str]:
    """What ``--replay`` answers: the recording, its entry count, what a miss gets, and a recorded request to try.

    The try-line is a recorded request that was answered with success (a create first), so it works as shown.
    """
    from mock_server.domain.records.har import load_har

    assert settings.replay is not None
    entries = load_har(settings.replay)
    url = settings.base_url
    miss = (
        "the mock's answer (--replay-miss mock)"
        if settings.replay_miss == "mock"
        else "a 404 naming the closest recorded request (--replay-miss 404; --replay-miss mock for the mock's answer)"
    )
    lines = [
        f"  REPLAYING {len(entries)} recorded exchange(s) from {settings.replay}: a recorded request (same method, "
        "path, query and body) gets its recorded answers in order",
        f"  a request not in the recording gets {miss}",
    ]
    worked = [e for e in entries if 200 <= e.status < 300 and not e.path.startswith(ADMIN_PREFIX)]
    if not worked:
        lines.append("  note: no recorded request was answered with a 2xx; every replayed answer is an error")
        return lines
    entry = next((e for e in worked if e.method == "POST"), worked[0])
    target = url + entry.path + (f"?{entry.query}" if entry.query else "")
    parts = [f"curl -s -X {entry.method} '{target}' -H 'Authorization: Bearer {key}'"]
    if entry.request_body:
        body = entry.request_body.decode("utf-8", "replace").replace("'", "'\\''")
        kind = entry.request_header("content-type") or "application/json"
        parts.append(f"-H 'Content-Type: {kind}' -d '{body}'")
    lines.append(f"  try (recorded, answered {entry.status}): {' '.join(parts)}")
    return lines


def _exposed_notes(settings: Settings) -> list[str]:
    """What changes when the mock listens beyond loopback (``--host 0.0.0.0``, as in its container image).

    Clients then come from other addresses (in a container, even the host's requests arrive from the bridge), so
    the loopback-only admin API turns them away, and webhooks to loopback names stay inside the container.
    """
    from mock_server.web.admin.guard import is_loopback

    if is_loopback(settings.host):
        return []
    notes: list[str] = []
    if settings.public_url is None and _is_unspecified(settings.host):
        notes.append(
            f"  note: image URLs name {settings.base_url}, which clients cannot use; set --public-url to the URL "
            f"they use (env FLUX_MOCK_PUBLIC_URL), e.g. http://127.0.0.1:{settings.port}"
        )
    if settings.admin_token is None:
        notes.append(
            f"  note: listening on {settings.host}, but the admin API and the dashboard answer loopback clients "
            "only, and requests from other machines (or from a container's host) are not loopback; to reach them, "
            "start with --admin-token TOKEN (env FLUX_MOCK_ADMIN_TOKEN) and send Authorization: Bearer TOKEN "
            "(the dashboard asks for it once)"
        )
    elif not settings.admin_host:
        notes.append(
            f"  note: listening on {settings.host}: admin callers send the token, and one that reaches the mock "
            "by a name or address other than localhost or 127.0.0.1 needs it listed: --admin-host NAME "
            "(env FLUX_MOCK_ADMIN_HOST)"
        )
    if settings.webhook_allow_hosts and all(is_loopback(host) for host in settings.webhook_allow_hosts):
        notes.append(
            f"  note: webhooks go only to {', '.join(settings.webhook_allow_hosts)} (in a container: the container "
            "itself); to send them to another machine or the container's host, allow its name, e.g. "
            "--webhook-allow-host host.docker.internal (env FLUX_MOCK_WEBHOOK_ALLOW_HOSTS)"
        )
    return notes


def _is_unspecified(host: str) -> bool:
    # 0.0.0.0 and ::, "every interface": fine to bind, meaningless in a URL.
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _pacing(settings: Settings) -> Pacing | None:
    if not settings.pace_from:
        return None
    from mock_server.contract.spec import load_spec
    from mock_server.domain.operations import Operations
    from mock_server.domain.pacing import load_pacing

    return load_pacing(settings.pace_from, Operations(load_spec()), seed=settings.seed)


def run(settings: Settings, *, echo: Callable[[str], Any] | None = None) -> int:
    """Serve until interrupted (what ``flux-mock serve`` does); returns the exit status."""
    if settings.store != "memory":
        from mock_server.services.stores.redis import check_reachable

        check_reachable(settings.store)  # say what is wrong before binding or spawning anything
    # Several workers each listen on the port (SO_REUSEPORT: the kernel spreads connections over them); this
    # process only holds it, not listening, so that port 0 resolves once for all of them.
    many = settings.workers > 1
    sock = bind_socket(settings.host, settings.port, reuse_port=many, listen=not many)
    settings = settings.replace(port=sock.getsockname()[1])
    app: Starlette | None = None
    try:
        if many:
            # Each worker learns the pacing itself; read here too, so a bad --pace-from file stops the start-up at once.
            pacing = _pacing(settings)
        else:
            from mock_server.web.app import create_app

            app = create_app(settings)  # the workers of `--workers N` each build their own
            pacing = app.state.services.pacing
    except BaseException:
        sock.close()  # e.g. a bad --scenarios file: report it without leaking the socket
        raise
    say = echo or (lambda text: print(text, file=sys.stderr, flush=True))
    say(banner(settings, pacing))
    problem = fd_problem(settings.max_connections)
    if problem:
        say(problem)
    if app is None:
        try:
            return Workers(settings, say).run()
        finally:
            sock.close()
    uvicorn.Server(uvicorn_config(app, settings, log_level=settings.log_level)).run(sockets=[sock])
    return 0


class LiveServer:
    """Serve an ASGI app on an ephemeral loopback port in a background thread.

    Example:
        with LiveServer(create_app(settings)) as server:
            httpx.get(server.url + "/api/v1/message/fetch/...")
    """

    def __init__(
        self,
        app: ASGIApp | None = None,
        *,
        settings: Settings | None = None,
        host: str = "127.0.0.1",
        clock: Clock | None = None,
    ) -> None:
        self._sock = bind_socket(host, 0)
        self.port: int = self._sock.getsockname()[1]
        self.host = host
        self.settings = (settings or Settings()).replace(host=host, port=self.port)
        # Built here when not given, so image URLs carry the real port; `clock` lets tests drive it (VirtualClock).
        if app is None:
            from mock_server.web.app import create_app

            app = create_app(self.settings, clock=clock)
        self.app = app
        self.config = uvicorn_config(self.app, self.settings, log_level="warning")
        self._server = uvicorn.Server(self.config)
        self._thread = threading.Thread(target=self._serve, name=f"flux-mock-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321."""
        return f"http://{self.host}:{self.port}"

    def _serve(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self, timeout: float = 10.0) -> LiveServer:
        """Start serving and wait until the server accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"flux-mock did not start on {self.url} within {timeout} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to shut down and wait for the thread."""
        self._server.should_exit = True
        if self._thread.ident is not None:  # started; a never-started server only has its socket to close
            self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self._sock.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
