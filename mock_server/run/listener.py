"""Listening: the socket a server binds and how uvicorn runs on it, shared by one server and by each worker."""

from __future__ import annotations

import errno
import socket

import uvicorn
from starlette.types import ASGIApp

from mock_server.config.settings import Settings
from mock_server.run.connections import Limits, limited_protocol


def bind_socket(host: str, port: int, *, reuse_port: bool = False, listen: bool = True) -> socket.socket:
    """Bind a listening TCP socket now, so port 0 resolves to a real port before the app is built.

    With `reuse_port`, several processes bind the same port and the kernel spreads connections over them.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    # Accepted connections inherit this on Linux. Without it uvloop leaves Nagle on, and a response written as
    # headers + body waits for the client's delayed ACK: ~40 ms added to every request on loopback.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        fix = (
            "Pick another --port."
            if exc.errno == errno.EADDRINUSE
            else "Check --host: it must be an address of this machine."
        )
        raise OSError(exc.errno, f"Cannot listen on {host}:{port}: {exc.strerror}. {fix}") from None
    if listen:
        sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: ASGIApp, settings: Settings, *, log_level: str) -> uvicorn.Config:
    """How flux-mock runs uvicorn: its connection limits, and proxy headers pinned to ``--trust-proxy``.

    Both are set here and never left to uvicorn's defaults: uvicorn reads ``FORWARDED_ALLOW_IPS`` from the
    environment (``*`` in many container images), and with it any peer could claim to be 127.0.0.1 with
    ``X-Forwarded-For`` and pass the loopback-only admin guard.
    """
    trusted = list(settings.trust_proxy)
    return uvicorn.Config(
        app,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        http=limited_protocol(Limits.from_settings(settings)),
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,  # a list, even empty, so uvicorn never falls back to the environment
        # Open dashboard feeds (long-lived streams) must not hold up Ctrl+C; webhooks get their own grace period.
        timeout_graceful_shutdown=2,
    )
