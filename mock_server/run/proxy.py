"""Serving the proxy on a socket until Ctrl+C (what ``flux-mock proxy`` does), with the mock's uvicorn set-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import uvicorn

from mock_server.config.settings import Settings
from mock_server.run.listener import bind_socket, uvicorn_config
from mock_server.web.proxy.app import create_proxy_app
from mock_server.web.proxy.exchange import Observer, ProxyOptions


def serve_proxy(
    settings: Settings,
    options: ProxyOptions,
    *,
    observe: Observer | None = None,
    echo: Callable[[str], Any] = print,
) -> None:
    """Bind ``settings.host:settings.port`` (loopback unless told otherwise), then forward until interrupted."""
    sock = bind_socket(settings.host, settings.port)
    settings = settings.replace(port=sock.getsockname()[1])
    try:
        app = create_proxy_app(settings, options, observe=observe, echo=echo)
    except BaseException:
        sock.close()
        raise
    url = settings.base_url
    echo(f"flux-mock proxy at {url} -> {options.base}  (strict: {'on' if options.strict else 'off'})")
    echo(f"  point your client at it: IMAGINEPRO_BASE_URL={url}; its API key goes to the upstream untouched")
    echo(f"  violations: printed here, and at {url}/__mock/violations; requests at {url}/__mock/requests")
    if options.record:
        echo(
            f"  recording to {options.record} (HAR 1.2; Authorization redacted; each exchange written as it completes)"
        )
    uvicorn.Server(uvicorn_config(app, settings, log_level=settings.log_level)).run(sockets=[sock])
