"""``flux-mock drift``: compare a recording with the mock (offered through the ``flux_mock.commands`` entry points)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from contracts.commands.options import HELP, report_options, report_target, write_report
from contracts.drift.replay import DriftOptions
from mock_server import cli_values, click_options


@click.command(context_settings=HELP)
@click.argument("recording", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click_options(DriftOptions)
@report_options
def drift(recording: Path, junit: str | None, **values: Any) -> None:
    """Compare a recording with the mock: flux-mock drift FILE.har [--json] [--junit FILE].

    Replays the recorded requests against an in-process mock on a virtual clock that follows the recorded
    timing, then compares answer by answer: status, fields added or removed, types, enum values not in the
    spec, error text, each job's lifecycle (statuses, progress steps, time to final) and headers (volatile
    ones ignored). Each finding names the openapi.yaml rule and whether it is x-inferred.
    """
    from contracts.drift import replay as report
    from mock_server import MockServerError, load_har

    options = DriftOptions(**cli_values(DriftOptions, values))
    target = report_target(junit)
    try:
        findings = report.drift(load_har(recording), job_seconds=options.job_seconds, seed=options.seed)
    except MockServerError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.as_json(findings) if options.as_json else report.render_table(findings))
    write_report(target, lambda: report.junit_xml(findings))
    if any(f.severity in options.fail_on for f in findings):
        raise SystemExit(1)
