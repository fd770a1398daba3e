"""``flux-mock drift``: judge a recording and compare it with the mock or an older recording (offered through the
``flux_mock.commands`` entry points)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from contracts.commands.options import HELP, report_options, report_target, write_report
from contracts.drift.replay import DriftOptions
from mock_server import cli_values, click_options


@click.command(context_settings=HELP)
@click.argument("recordings", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click_options(DriftOptions)
@report_options
def drift(recordings: tuple[Path, ...], junit: str | None, **values: Any) -> None:
    """Judge a recording and compare it: flux-mock drift FILE.har | OLD.har NEW.har [--json] [--junit FILE].

    With one recording: its answers are checked on their own (schema, lifecycle order, progress, DONE media,
    FAIL error, both poll paths, timestamps), then replayed against an in-process mock whose job is put in the
    state each answer shows, and compared (status, fields added or removed, types, error text, headers). The
    pacing each job kind shows (queue time, time to DONE/FAIL, progress steps, spread) is reported, and differs
    from the mock's as one info finding per kind. With two: the newer is judged and compared with the older,
    no mock involved. Errors fail the run (--fail-on); each finding names the rule and whether it is x-inferred.
    A recording cut short by a crash is read up to its last complete exchange.
    """
    from contracts.drift import report
    from contracts.drift.baseline import compare_recordings
    from contracts.drift.replay import drift as against_mock
    from mock_server import MockServerError, read_recording

    if len(recordings) > 2:
        raise click.UsageError(
            f"drift takes one recording (compared with the mock) or two (OLD.har NEW.har), not {len(recordings)}."
        )
    options = DriftOptions(**cli_values(DriftOptions, values))
    target = report_target(junit)
    try:
        read = [read_recording(path) for path in recordings]
        if len(read) == 1:
            found = against_mock(
                read[0].entries, job_seconds=options.job_seconds, seed=options.seed, source=read[0].source
            )
        else:
            found = compare_recordings(
                read[0].entries, read[1].entries, old_source=read[0].source, new_source=read[1].source
            )
    except MockServerError as exc:
        raise click.ClickException(str(exc)) from None
    found = replace(found, notes=[r.note for r in read if r.note])
    click.echo(report.as_json(found) if options.as_json else report.render_table(found))
    write_report(target, lambda: report.junit_xml(found.findings, options.fail_on))
    if found.fails(options.fail_on):
        raise SystemExit(1)
