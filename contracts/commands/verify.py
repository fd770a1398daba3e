"""``flux-mock verify``: hold a client to the contract (offered through the ``flux_mock.commands`` entry points)."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from typing import Any

import click

from contracts.commands.options import HELP, report_options, report_target, write_report
from contracts.verify.checks import ClientRules
from contracts.verify.run import VerifyOptions
from mock_server import cli_values, click_options

RULE_OPTIONS = ("min_poll_interval", "min_backoff", "max_unchanged_polls")


@click.command(context_settings=HELP)
@click_options(VerifyOptions)
@click_options(ClientRules, only=RULE_OPTIONS)
@report_options
@click.option("--show-output", is_flag=True, help="Print the client's whole output for every scenario.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def verify(junit: str | None, show_output: bool, command: tuple[str, ...], **values: Any) -> None:
    """Verify that a client honours the contract: flux-mock verify [OPTIONS] -- CMD ...

    For each scenario, a fresh mock starts on a free loopback port and CMD runs once with
    IMAGINEPRO_BASE_URL, IMAGINEPRO_API_KEY and IMAGINEPRO_MOCK_ADMIN_URL pointing at it. The mock's
    journal then shows what the client got wrong: requests that break the schema, polling
    faster than 10/s or the courtesy interval, polling after DONE/FAIL or never polling,
    ignoring Retry-After, retrying 5xx without back-off, polling a stalled job forever,
    calling undocumented endpoints, and an exit code that does not match the scenario.

    Exits 0 when every scenario passes, 1 when there are violations.
    """
    import re

    from contracts.verify.checks import CLIENT_CHECKS
    from contracts.verify.exchanges import contract_routes
    from contracts.verify.report import format_report, format_result_line, junit_xml
    from contracts.verify.run import VerifyError, expand_scenarios, verify_client

    defaults = VerifyOptions()
    rule_values = cli_values(ClientRules, {k: values.pop(k) for k in RULE_OPTIONS})
    given = cli_values(VerifyOptions, values)
    names = expand_scenarios(given.pop("scenarios", defaults.scenarios))
    if not names:
        raise click.BadParameter("give at least one scenario, e.g. success", param_hint="--scenarios")
    known = {*CLIENT_CHECKS, "exit-code", "client-timeout"}
    for name in given.get("skip_checks", ()):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise click.BadParameter(
                f"{name!r} is not a check.{hint} Checks: {', '.join(sorted(known))}.", param_hint="--skip-check"
            )
    pattern = given.get("failure_pattern", defaults.failure_pattern)
    try:
        re.compile(pattern)
    except re.error as exc:
        raise click.BadParameter(
            f"{pattern!r} is not a regular expression: {exc}.", param_hint="--failure-pattern"
        ) from None
    rules = dataclasses.replace(ClientRules(), **rule_values, documented=contract_routes())
    options = VerifyOptions(
        **{**given, "scenarios": names, "expectations": _expectations(given.get("expectations", ()), names)},
        rules=rules,
    )
    target = report_target(junit)
    try:
        report = verify_client(command, options, on_result=lambda r: click.echo(format_result_line(r), err=True))
    except VerifyError as exc:  # verify could not run at all: a usage error (exit 2), not a client violation (1)
        raise click.UsageError(str(exc)) from None
    click.echo(format_report(report, show_output=show_output))
    write_report(target, lambda: junit_xml(report))
    if not report.passed:
        raise SystemExit(1)


def _expectations(values: Sequence[str], scenarios: Sequence[str]) -> dict[str, Any]:
    from contracts.verify.run import EXIT_RULES

    known = {*scenarios, *(name.partition(":")[0] for name in scenarios)}
    found: dict[str, Any] = {}
    for value in values:
        scenario, sep, rule = value.partition("=")
        if not sep or not scenario.strip() or rule.strip() not in EXIT_RULES:
            raise click.BadParameter(
                f"{value!r} must be SCENARIO=RULE with RULE one of {', '.join(EXIT_RULES)}, e.g. fail=nonzero.",
                param_hint="--expect",
            )
        if scenario.strip() not in known:
            raise click.BadParameter(
                f"{scenario.strip()!r} is not one of the scenarios run ({', '.join(scenarios)}).", param_hint="--expect"
            )
        found[scenario.strip()] = rule.strip()
    return found
