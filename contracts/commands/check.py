"""``flux-mock check``: hold a server to the contract (offered through the ``flux_mock.commands`` entry points)."""

from __future__ import annotations

from typing import Any

import click

from contracts.check.run import CheckOptions
from contracts.commands.options import HELP, report_options, report_target, write_report
from mock_server import cli_values, click_options


@click.command(context_settings=HELP)
@click_options(CheckOptions)
@report_options
@click.option("-v", "--verbose", is_flag=True, help="List passed checks too.")
def check(junit: str | None, verbose: bool, **values: Any) -> None:
    """Check that a server is faithful to the contract: flux-mock check --base-url URL [--token T].

    Runs real jobs to the end on both progress paths with every contract check, probes the error
    answers, then schemathesis (examples, coverage, fuzzing, stateful). Prints a summary with a
    curl reproduction and the seed for every failure, and what the run cost. Exits 0 only when
    nothing failed.
    """
    import tempfile

    from hypothesis import configuration

    from contracts.check.run import run_check
    from contracts.core.reporting import junit_text, render_summary

    try:
        options = CheckOptions(**cli_values(CheckOptions, values))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    target = report_target(junit)
    # Hypothesis' storage goes to a temporary folder: nothing replays from, or is left in, the caller's directory.
    with tempfile.TemporaryDirectory(prefix="flux-mock-check-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            report = run_check(options)
        finally:
            configuration.set_hypothesis_home_dir(None)
    click.echo(render_summary(report, verbose=verbose))
    write_report(target, lambda: junit_text(report))
    raise SystemExit(report.exit_code)
