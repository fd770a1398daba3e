"""`create_proxy_app(settings, options, observe=...)`: the ASGI app behind ``flux-mock proxy``.

The proxy is the mock's own HTTP stack with the router swapped for a `Forwarder`: the same journal, scenario
selection (header, prompt directive, admin API, default) and wire-fault middleware, the same ``/__mock`` admin
API (``/__mock/requests``, ``/__mock/violations``, ``/__mock/scenarios``). Job scenarios are refused by
`ProxyScenarioGuard`, since the job runs on the upstream.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware

from mock_server.config.settings import Settings
from mock_server.contract.errors import SettingsError
from mock_server.contract.spec import Spec, load_spec
from mock_server.domain.clock import Clock, SystemClock
from mock_server.domain.records.har import HarRecorder
from mock_server.services.container import Services
from mock_server.services.control import MockControl
from mock_server.web.admin.routes import admin_mount
from mock_server.web.app import scenario_middleware
from mock_server.web.middleware.auth import key_policy
from mock_server.web.middleware.journal import JournalMiddleware
from mock_server.web.proxy.exchange import Observer, ProxyOptions
from mock_server.web.proxy.forward import Echo, Forwarder
from mock_server.web.proxy.guard import ProxyScenarioGuard, refusal


def create_proxy_app(
    settings: Settings,
    options: ProxyOptions,
    *,
    observe: Observer | None = None,
    echo: Echo | None = None,
    clock: Clock | None = None,
    spec: Spec | None = None,
) -> Starlette:
    """Build the validating proxy: every API request goes to ``options.upstream`` and its answer comes back.

    Args:
        settings: the proxy's own settings (host, port, scenarios, admin token, body limit, journal size).
        options: where to forward and how (strict, violations header, recording).
        observe: judges each exchange and returns the upstream's violations (``flux-mock proxy`` passes the
            contract kit's lifecycle checks); they are journalled, printed and, with ``strict``, answered as 502.
        echo: where violations are printed as they happen (e.g. stderr).
        clock: the proxy's clock (arrival times, recorded timing); a `VirtualClock` in tests.

    Example:
        upstream = httpx.ASGITransport(create_app(Settings(job_seconds=0)))
        proxy = create_proxy_app(Settings(), ProxyOptions("http://upstream", transport=upstream))
    """
    reason = refusal(settings.scenario) if settings.scenario else None
    if reason is not None:
        raise SettingsError(f"--scenario {settings.scenario!r}: {reason}")
    spec = spec if spec is not None else load_spec()
    svc = Services.build(settings, clock if clock is not None else SystemClock(), spec)
    recorder = HarRecorder(options.record, redact=options.redact) if options.record else None
    # The upstream's key passes through untouched; httpx keeps no cookies or credentials between requests here.
    client = httpx.AsyncClient(transport=options.transport, timeout=options.timeout_s, follow_redirects=False)
    forwarder = Forwarder(svc, options, client, observe=observe, recorder=recorder, echo=echo)
    accepts = key_policy(())  # the upstream decides which keys are good; here any Bearer key is a key

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.aclose()
            if recorder is not None:
                recorder.close()

    app = Starlette(
        routes=[admin_mount(settings.admin_token, settings.admin_host)],
        middleware=[
            Middleware(JournalMiddleware, journal=svc.journal, clock=svc.clock),
            *scenario_middleware(svc, accepts, between=(Middleware(ProxyScenarioGuard),)),
        ],
        lifespan=lifespan,
    )
    app.router.default = forwarder  # every path the admin mount does not take goes upstream
    app.state.services = svc
    app.state.control = MockControl(svc)
    app.state.recorder = recorder
    app.state.forwarder = forwarder
    return app
