"""``flux-mock proxy``: validate live traffic (offered through the ``flux_mock.commands`` entry points)."""

from __future__ import annotations

from typing import Any

import click

from contracts.commands.options import HELP
from mock_server import (
    MockServerError,
    ProxyOptions,
    Settings,
    SettingsError,
    cli_values,
    click_options,
    settings_options,
)

# The proxy takes these mock settings (declared once, in mock_server's Settings: flag, env and keyword alike).
PROXY_SETTINGS = ("host", "port", "scenario", "scenarios_file", "admin_token", "admin_host", "trust_proxy", "log_level")
PROXY_DEFAULTS = {"port": 8081}  # beside a mock on 8080


@click.command(context_settings=HELP)
@click_options(ProxyOptions)
@settings_options(only=PROXY_SETTINGS, defaults=PROXY_DEFAULTS)
@click.option("--quiet", is_flag=True, help="Do not print violations as they happen (they stay in /__mock/violations).")
def proxy(quiet: bool, **values: Any) -> None:
    """Validate live traffic: flux-mock proxy --upstream https://api.imaginepro.ai [--record FILE.har].

    Forwards every request to the upstream and returns its answer unchanged (unless --strict). Both directions
    are validated against openapi.yaml with the mock's own validators, and every job seen is followed across
    polls with the contract checks (status only forward, progress never decreasing, DONE has n images and
    uri == images[0], both paths agree, ...). Violations are printed as they happen and kept at
    /__mock/violations. The client's API key goes to the upstream untouched and is never written anywhere.
    """
    from contracts.proxy.watch import LifecycleWatch
    from mock_server import serve_proxy

    def say(text: str) -> None:
        click.echo(text, err=True)

    proxied = cli_values(ProxyOptions, {k: values.pop(k) for k in list(values) if k not in PROXY_SETTINGS})
    try:
        # Job scenarios in --scenario are refused by the proxy's guard, per request, naming the scenario.
        settings = Settings.from_cli(cli_values(Settings, values), defaults=PROXY_DEFAULTS)
        options = ProxyOptions(**proxied)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        serve_proxy(settings, options, observe=LifecycleWatch(), echo=(lambda _: None) if quiet else say)
    except (MockServerError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
