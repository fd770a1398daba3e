"""``flux-mock check`` and ``flux-mock verify`` (offered through the ``flux_mock.commands`` entry points)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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

    from contracts.check.run import CheckOptions, run_check
    from contracts.core.reporting import render_summary, write_junit

    try:
        options = CheckOptions(phases=frozenset(p.strip() for p in phases.split(",") if p.strip()), **values)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    _writable_report(junit)
    # Hypothesis' storage goes to a temporary folder: nothing replays from, or is left in, the caller's directory.
    with tempfile.TemporaryDirectory(prefix="flux-mock-check-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            report = run_check(options)
        finally:
            configuration.set_hypothesis_home_dir(None)
    click.echo(render_summary(report, verbose=verbose))
    if junit is not None:
        _write_report(junit, lambda: write_junit(report, junit))
    raise SystemExit(report.exit_code)


def _writable_report(path: Path | None) -> None:
    """Fail before the run (nothing spent yet) if the JUnit report cannot be written; create its folder."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc.strerror or exc}.", param_hint="--junit") from None


def _write_report(path: Path, write: Callable[[], object]) -> None:
    try:
        write()
    except OSError as exc:
        raise click.ClickException(f"Cannot write the JUnit report {path}: {exc.strerror or exc}.") from None
    click.echo(f"JUnit report written to {path}")


def _expectations(values: tuple[str, ...], scenarios: Sequence[str]) -> dict[str, Any]:
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


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--scenarios",
    default="success,fail,timeout",
    show_default=True,
    metavar="LIST",
    help="Comma-separated scenarios, one run of the client each (e.g. success,fail,timeout,stall,reject:429,flaky:2), "
    "or a preset: resilience (adds stall, flaky:2, reject:429, reject:503, disconnect, garbage; recommended for CI) "
    "or all.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Kill the client (its whole process group) if one run takes longer, and report it.",
)
@click.option(
    "--job-seconds",
    type=click.FloatRange(min=0),
    default=3.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a job takes on the mock.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="The mock's seed (same seed, same ids).")
@click.option(
    "--rate-limit",
    type=click.Choice(["documented", "off"]),
    default="documented",
    show_default=True,
    help="documented: the mock answers 429 + Retry-After past 1 request per 3 s (general) or 10/s (polls).",
)
@click.option(
    "--fast-forward/--no-fast-forward",
    default=True,
    show_default=True,
    help="In the timeout scenario, jump the mock clock to the job's deadline after --job-seconds.",
)
@click.option(
    "--api-key",
    default="sk-flux-mock-verify",
    show_default=True,
    help="Exported as IMAGINEPRO_API_KEY; the mock accepts only this key.",
)
@click.option(
    "--min-poll-interval",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    metavar="SECONDS",
    help="Courtesy gap between two polls of one job (0: off). The documented 10/s limit always applies.",
)
@click.option(
    "--min-backoff",
    type=click.FloatRange(min=0),
    default=0.2,
    show_default=True,
    metavar="SECONDS",
    help="Smallest wait before retrying after a 5xx, a dropped connection or a garbled answer.",
)
@click.option(
    "--max-unchanged-polls",
    type=click.IntRange(min=1),
    default=60,
    show_default=True,
    metavar="N",
    help="Polls of a job that shows no progress before it counts as endless polling.",
)
@click.option(
    "--expect",
    multiple=True,
    metavar="SCENARIO=RULE",
    help="Exit-code expectation: zero, nonzero, failure (non-zero or output matching --failure-pattern) "
    "or any. Defaults: success=zero, fail=failure, timeout=failure, ... Repeatable.",
)
@click.option(
    "--failure-pattern",
    default=None,
    metavar="REGEX",
    help="Output that counts as the client reporting a failure (default: fail/error/timed out/gave up).",
)
@click.option("--skip-check", multiple=True, metavar="NAME", help="Do not run this check (repeatable).")
@click.option(
    "--webhook-allow-host",
    multiple=True,
    metavar="HOST",
    help="Let the mock send webhooks to this host too (repeatable; loopback always may; *.domain, *).",
)
@click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write a JUnit XML report here."
)
@click.option("--show-output", is_flag=True, help="Print the client's whole output for every scenario.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def verify(
    scenarios: str,
    timeout: float,
    job_seconds: float,
    seed: int,
    rate_limit: str,
    fast_forward: bool,
    api_key: str,
    min_poll_interval: float,
    min_backoff: float,
    max_unchanged_polls: int,
    expect: tuple[str, ...],
    failure_pattern: str | None,
    skip_check: tuple[str, ...],
    webhook_allow_host: tuple[str, ...],
    junit: Path | None,
    show_output: bool,
    command: tuple[str, ...],
) -> None:
    """Verify that a client honours the contract: flux-mock verify [OPTIONS] -- CMD ...

    For each scenario, a fresh mock starts on a free loopback port and CMD runs once with
    IMAGINEPRO_BASE_URL, IMAGINEPRO_API_KEY and IMAGINEPRO_MOCK_ADMIN_URL pointing at it. The mock's
    journal then shows what the client got wrong: requests that break the schema, polling
    faster than 10/s or the courtesy interval, polling after DONE/FAIL or never polling,
    ignoring Retry-After, retrying 5xx without back-off, polling a stalled job forever,
    calling undocumented endpoints, and an exit code that does not match the scenario.

    Exits 0 when every scenario passes, 1 when there are violations.
    """
    import dataclasses
    import re

    from contracts.verify.checks import CLIENT_CHECKS, ClientRules
    from contracts.verify.exchanges import contract_routes
    from contracts.verify.report import format_report, format_result_line, junit_xml
    from contracts.verify.run import (
        DEFAULT_FAILURE_PATTERN,
        VerifyError,
        VerifyOptions,
        expand_scenarios,
        verify_client,
    )

    names = expand_scenarios([s for s in scenarios.split(",") if s.strip()])
    if not names:
        raise click.BadParameter("give at least one scenario, e.g. success", param_hint="--scenarios")
    known = {*CLIENT_CHECKS, "exit-code", "client-timeout"}
    for name in skip_check:
        if name not in known:
            raise click.BadParameter(
                f"{name!r} is not a check; checks: {', '.join(sorted(known))}.", param_hint="--skip-check"
            )
    pattern = failure_pattern or DEFAULT_FAILURE_PATTERN
    try:
        re.compile(pattern)
    except re.error as exc:
        raise click.BadParameter(
            f"{pattern!r} is not a regular expression: {exc}.", param_hint="--failure-pattern"
        ) from None
    rules = dataclasses.replace(
        ClientRules(),
        min_poll_interval=min_poll_interval,
        min_backoff=min_backoff,
        max_unchanged_polls=max_unchanged_polls,
        documented=contract_routes(),
    )
    options = VerifyOptions(
        scenarios=names,
        timeout=timeout,
        job_seconds=job_seconds,
        seed=seed,
        api_key=api_key,
        rules=rules,
        expectations=_expectations(expect, names),
        failure_pattern=pattern,
        skip_checks=skip_check,
        rate_limit=rate_limit,
        fast_forward=fast_forward,
        webhook_allow_hosts=webhook_allow_host,
    )
    _writable_report(junit)
    try:
        report = verify_client(command, options, on_result=lambda r: click.echo(format_result_line(r), err=True))
    except VerifyError as exc:  # verify could not run at all: a usage error (exit 2), not a client violation (1)
        raise click.UsageError(str(exc)) from None
    click.echo(format_report(report, show_output=show_output))
    if junit is not None:
        _write_report(junit, lambda: junit.write_text(junit_xml(report), encoding="utf-8"))
    if not report.passed:
        raise SystemExit(1)
