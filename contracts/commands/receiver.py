"""``flux-mock verify-receiver``: hold a webhook receiver to the delivery contract (a ``flux_mock.commands`` entry
point)."""

from __future__ import annotations

from typing import Any

import click

from contracts.commands.options import HELP, report_options, report_target, write_report
from contracts.receiver.run import ReceiverOptions
from mock_server import cli_values, click_options


@click.command("verify-receiver", context_settings=HELP)
@click_options(ReceiverOptions)
@report_options
@click.argument("url")
def verify_receiver(junit: str | None, url: str, **values: Any) -> None:
    """Verify that a webhook receiver honours the contract: flux-mock verify-receiver URL [--secret whsec_...].

    Sends URL real deliveries, as the mock makes them (the Message of every job kind, progress events,
    the same delivery twice, a corrupt body; with --secret also forged, unsigned, tampered, stale and
    future ones; with --scenarios all also events after the final one, a final before the job ends and a
    burst), and judges each answer: a valid delivery gets a 2xx within the ack timeout, a corrupt one a
    2xx or 4xx, a forged one a 4xx; never a 5xx or a hang. Each violation shows what was sent as a curl
    line, what came back and the rule. Loopback and --allow-host hosts only.

    Exits 0 when the receiver honours the contract, 1 when it does not, 2 for usage errors.
    """
    from contracts.receiver.report import format_report, format_result_line, junit_xml
    from contracts.receiver.run import ReceiverError
    from contracts.receiver.run import verify_receiver as run

    options = ReceiverOptions(**cli_values(ReceiverOptions, values))
    target = report_target(junit)
    try:  # options and the URL are checked before anything is made or sent
        report = run(url, options, on_result=lambda r: click.echo(format_result_line(r), err=True))
    except ReceiverError as exc:  # nothing judged: a usage error (exit 2), not a receiver violation (1)
        raise click.UsageError(str(exc)) from None
    click.echo(format_report(report))
    write_report(target, lambda: junit_xml(report))
    if not report.passed:
        raise SystemExit(1)
