"""``flux-mock proxy`` and ``flux-mock drift`` (offered through the ``flux_mock.commands`` entry points).

Kept apart from `contracts.commands.kit` (check, verify) so each module stays readable; both are the kit's top layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mock_server import settings_from_cli, settings_options

HELP = {"help_option_names": ["-h", "--help"]}
# The proxy takes these mock settings (declared once, in mock_server's Settings: flag, env and keyword alike).
PROXY_SETTINGS = ("host", "port", "scenario", "scenarios_file", "admin_token", "admin_host", "trust_proxy", "log_level")
PROXY_DEFAULTS = {"port": 8081}  # beside a mock on 8080


@click.command(context_settings=HELP)
@click.option(
    "--upstream",
    required=True,
    envvar="FLUX_MOCK_UPSTREAM",
    metavar="URL",
    help="The real API to forward to, e.g. https://api.imaginepro.ai [env: FLUX_MOCK_UPSTREAM].",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Answer an invalid request with the mock's 400/401 (never forwarded, no credits spent) and an invalid "
    "upstream answer with a 502 that lists its violations.",
)
@click.option(
    "--violations-header",
    type=click.IntRange(0, 8192),
    default=0,
    show_default=True,
    metavar="BYTES",
    help="Add X-Flux-Mock-Violations (pointer and rule of each violation) to answers, cut to BYTES; 0: off.",
)
@click.option(
    "--record",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE.har",
    help="Write every exchange to this HAR 1.2 file (Authorization redacted; complete when the proxy stops).",
)
@click.option(
    "--redact",
    multiple=True,
    metavar="POINTER",
    help="JSON pointer replaced by [REDACTED] in recorded request and response bodies, e.g. /prompt (repeatable).",
)
@click.option(
    "--upstream-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds to wait for the upstream's answer before answering 502.",
)
@settings_options(only=PROXY_SETTINGS, defaults=PROXY_DEFAULTS)
@click.option("--quiet", is_flag=True, help="Do not print violations as they happen (they stay in /__mock/violations).")
def proxy(
    upstream: str,
    strict: bool,
    violations_header: int,
    record: Path | None,
    redact: tuple[str, ...],
    upstream_timeout: float,
    quiet: bool,
    **values: Any,
) -> None:
    """Validate live traffic: flux-mock proxy --upstream https://api.imaginepro.ai [--record FILE.har].

    Forwards every request to the upstream and returns its answer unchanged (unless --strict). Both directions
    are validated against openapi.yaml with the mock's own validators, and every job seen is followed across
    polls with the contract checks (status only forward, progress never decreasing, DONE has n images and
    uri == images[0], both paths agree, ...). Violations are printed as they happen and kept at
    /__mock/violations. The client's API key goes to the upstream untouched and is never written anywhere.
    """
    from contracts.proxy.watch import LifecycleWatch
    from mock_server import MockServerError, ProxyOptions, serve_proxy

    def say(text: str) -> None:
        click.echo(text, err=True)

    try:
        # Job scenarios in --scenario are refused by the proxy's guard, per request, naming the scenario.
        settings = settings_from_cli(values, defaults=PROXY_DEFAULTS)
        options = ProxyOptions(
            upstream=upstream,
            strict=strict,
            violations_header=violations_header,
            record=None if record is None else str(record),
            redact=redact,
            timeout_s=upstream_timeout,
        )
        serve_proxy(settings, options, observe=LifecycleWatch(), echo=(lambda _: None) if quiet else say)
    except (MockServerError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


@click.command(context_settings=HELP)
@click.argument("recording", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@settings_options(only=("job_seconds", "seed"))  # the in-process mock's; match --job-seconds to the upstream's pacing
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON instead of a table.")
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write a JUnit XML report here."
)
@click.option(
    "--fail-on",
    default="error,warning",
    show_default=True,
    metavar="SEVERITIES",
    help="Comma-separated severities (error, warning, info) that make the exit code 1.",
)
def drift(recording: Path, as_json: bool, junit: Path | None, fail_on: str, **values: Any) -> None:
    """Compare a recording with the mock: flux-mock drift FILE.har [--json] [--junit FILE].

    Replays the recorded requests against an in-process mock on a virtual clock that follows the recorded
    timing, then compares answer by answer: status, fields added or removed, types, enum values not in the
    spec, error text, each job's lifecycle (statuses, progress steps, time to final) and headers (volatile
    ones ignored). Each finding names the openapi.yaml rule and whether it is x-inferred.
    """
    from contracts.drift import replay as report
    from mock_server import MockServerError, load_har

    chosen = {s.strip() for s in fail_on.split(",") if s.strip()}
    unknown = chosen - {"error", "warning", "info"}
    if unknown:
        raise click.BadParameter(
            f"{', '.join(sorted(unknown))}: use error, warning and/or info.", param_hint="--fail-on"
        )
    try:
        settings = settings_from_cli(values)
        findings = report.drift(load_har(recording), job_seconds=settings.job_seconds, seed=settings.seed)
    except MockServerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.as_json(findings) if as_json else report.render_table(findings))
    if junit is not None:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(report.junit_xml(findings), encoding="utf-8")
    if any(f.severity in chosen for f in findings):
        raise SystemExit(1)
