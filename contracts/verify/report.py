"""Render a `VerifyReport`: a text table per run for people, JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from contracts.core.reporting import xml_text
from contracts.verify.blocked_webhooks import merge
from contracts.verify.run import ScenarioResult, VerifyReport

_HEADERS = ("scenario", "result", "exit", "expected", "requests", "polls", "duration", "violations")


def _exit_text(result: ScenarioResult) -> str:
    return "killed" if result.run.killed else str(result.run.exit_code)


def _row(result: ScenarioResult) -> tuple[str, ...]:
    return (
        result.scenario,
        "pass" if result.passed else "FAIL",
        _exit_text(result),
        result.expected,
        str(result.requests),
        str(result.polls),
        f"{result.run.duration:.1f} s",
        str(len(result.violations)),
    )


def format_table(rows: Sequence[Sequence[str]], headers: Sequence[str] = _HEADERS) -> str:
    """Left-aligned columns separated by two spaces."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [headers, *rows]
    ]
    return "\n".join(lines)


def format_result_line(result: ScenarioResult) -> str:
    """One line per finished scenario, for progress output."""
    verdict = "pass" if result.passed else f"FAIL ({len(result.violations)} violation(s))"
    return f"{result.scenario}: {verdict}, exit {_exit_text(result)}, {result.polls} polls, {result.run.duration:.1f} s"


def format_report(report: VerifyReport, *, show_output: bool = False, output_lines: int = 10) -> str:
    """The table, each violation with its fix, the client's last output where it failed, and a summary."""
    opts = report.options
    rules = opts.rules
    parts = [
        f"flux-mock verify: {' '.join(report.command)}",
        f"mock: jobs take {opts.job_seconds:g} s, seed {opts.seed}; limits: {rules.max_polls_per_second:g} polls/s, "
        f"{rules.min_poll_interval:g} s between polls of a job, {rules.min_backoff:g} s back-off; "
        f"timeout {opts.timeout:g} s per scenario",
        "",
        format_table([_row(r) for r in report.results]),
    ]
    for result in report.results:
        if result.passed and not show_output:
            continue
        parts.append("")
        if not result.passed:
            parts.append(f"{result.scenario}: {len(result.violations)} violation(s)")
            parts.extend(f"  [{v.check}] {v.message}" for v in result.violations)
        output = (result.run.stdout + result.run.stderr).strip().splitlines()
        if output:
            shown = output if show_output else output[-output_lines:]
            parts.append(f"  client output ({'all' if show_output else 'last'} {len(shown)} line(s)):")
            parts.extend(f"    {line}" for line in shown)
    blocked = merge(r.blocked for r in report.results)
    if blocked:
        parts += ["", "webhooks the mock blocked (never sent; not a violation):"]
        parts.extend(f"  {item.describe()}" for item in blocked)
    failed = [r for r in report.results if not r.passed]
    parts.append("")
    parts.append(
        f"{len(report.results) - len(failed)} of {len(report.results)} scenario(s) passed; "
        f"{len(report.violations)} violation(s)."
    )
    return "\n".join(parts)


def junit_xml(report: VerifyReport) -> str:
    """JUnit XML: one test case per scenario, one <failure> per violation, the client's output attached."""
    suite = ET.Element(
        "testsuite",
        name="flux-mock verify",
        tests=str(len(report.results)),
        failures=str(sum(1 for r in report.results if not r.passed)),
        errors="0",
        time=f"{sum(r.run.duration for r in report.results):.3f}",
    )
    ET.SubElement(
        ET.SubElement(suite, "properties"), "property", name="command", value=xml_text(" ".join(report.command))
    )
    for result in report.results:
        case = ET.SubElement(
            suite, "testcase", classname="flux-mock.verify", name=result.scenario, time=f"{result.run.duration:.3f}"
        )
        for violation in result.violations:
            failure = ET.SubElement(case, "failure", type=violation.check, message=xml_text(violation.message))
            failure.text = xml_text(str(violation))
        ET.SubElement(case, "system-out").text = xml_text(result.run.stdout)
        ET.SubElement(case, "system-err").text = xml_text(result.run.stderr)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
