"""``flux-mock check`` and ``flux-mock verify`` (offered through the ``flux_mock.commands`` entry points)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--base-url",
    required=True,
    envvar="IMAGINEPRO_BASE_URL",
    metavar="URL",
    help="The server to check, e.g. http://127.0.0.1:8080 [env: IMAGINEPRO_BASE_URL].",
)
@click.option(
    "--token",
    envvar="IMAGINEPRO_API_KEY",
    default=None,
    metavar="KEY",
    help="Bearer API key [env: IMAGINEPRO_API_KEY]; required unless the URL is loopback.",
)
@click.option(
    "--max-jobs",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Most jobs the run may create (default: 5 unless the URL is loopback, then no cap).",
)
@click.option("--seed", type=int, default=None, help="Seed of every generated case (default: random, printed).")
@click.option(
    "--phases",
    default="lifecycle,probes,examples,coverage,fuzzing,stateful",
    show_default=True,
    metavar="LIST",
    help="Comma-separated parts to run.",
)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=25,
    show_default=True,
    metavar="N",
    help="Hypothesis examples per schemathesis operation and phase.",
)
@click.option(
    "--job-timeout",
    type=click.IntRange(10, 900),
    default=120,
    show_default=True,
    metavar="SECONDS",
    help="The timeout sent with lifecycle jobs; polling gives up 15 s after it.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds between polls of a lifecycle job.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Seconds per request.",
)
@click.option("--rate-limit", default=None, metavar="RATE", help="schemathesis rate limit, e.g. 1/3s.")
@click.option(
    "--webhooks/--no-webhooks",
    default=True,
    show_default=True,
    help="Exercise webhooks through a local receiver when the server can reach it.",
)
@click.option(
    "--webhook-receiver-host",
    default=None,
    metavar="HOST",
    help="Host the server uses to reach this machine's receiver (default: only for a loopback server).",
)
@click.option(
    "--webhook-wait",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for the webhook once a job has ended.",
)
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write a JUnit XML report here."
)
@click.option("-v", "--verbose", is_flag=True, help="List passed checks too.")
def check(junit: Path | None, verbose: bool, phases: str, **values: Any) -> None:
    """Check that a server is faithful to the contract: flux-mock check --base-url URL [--token T].

    Runs real jobs to the end on both progress paths with every contract check, probes the error
    answers, then schemathesis (examples, coverage, fuzzing, stateful). Prints a summary with a
    curl reproduction and the seed for every failure, and what the run cost. Exits 0 only when
    nothing failed.
    """
    import tempfile

    from hypothesis import configuration

    from .reporting import render_summary, write_junit
    from .server_check import CheckOptions, run_check

    try:
        options = CheckOptions(phases=frozenset(p.strip() for p in phases.split(",") if p.strip()), **values)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    # Hypothesis' storage goes to a temporary folder: nothing replays from, or is left in, the caller's directory.
    with tempfile.TemporaryDirectory(prefix="flux-mock-check-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            report = run_check(options)
        finally:
            configuration.set_hypothesis_home_dir(None)
    click.echo(render_summary(report, verbose=verbose))
    if junit is not None:
        click.echo(f"JUnit report written to {write_junit(report, junit)}")
    raise SystemExit(report.exit_code)


@click.command()
def verify() -> None:
    """Verify that a client honours the contract (not built yet)."""
    raise click.ClickException("flux-mock verify is not implemented yet.")
