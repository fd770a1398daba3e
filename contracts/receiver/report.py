"""Render a `ReceiverReport`: a table and every violation with its curl line for people, JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from contracts.core.reporting import xml_text
from contracts.receiver.run import ReceiverReport, ReceiverResult
from contracts.receiver.verdicts import labels

_HEADERS = ("scenario", "result", "sent", "answers", "slowest", "violations")


def answers_summary(result: ReceiverResult) -> str:
    """The answers of a scenario in a few characters, e.g. ``200 x4`` or ``200, 500``."""
    return labels(e.answer for e in result.exchanges)


def _row(result: ReceiverResult) -> tuple[str, ...]:
    return (
        result.scenario,
        "pass" if result.passed else "FAIL",
        str(len(result.exchanges)),
        answers_summary(result),
        f"{result.slowest_ms:.0f} ms",
        str(len(result.violations)),
    )


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(_HEADERS, *rows, strict=True)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [_HEADERS, *rows]
    )


def _masked(secret: str) -> str:
    return secret[:8] + "..." if len(secret) > 12 else "whsec_..."


def signing_text(report: ReceiverReport) -> str:
    """How the deliveries were signed, without showing the secret."""
    secret = report.options.secret
    if secret is None:
        return "unsigned, like ImaginePro's"
    return f"signed with Standard Webhooks ({_masked(secret)}, as flux-mock serve --webhook-secret signs)"


def format_result_line(result: ReceiverResult) -> str:
    """One line per finished scenario, for progress output."""
    verdict = "pass" if result.passed else f"FAIL ({len(result.violations)} violation(s))"
    return f"{result.scenario}: {verdict}, {len(result.exchanges)} sent, answers {answers_summary(result)}"


def format_report(report: ReceiverReport) -> str:
    """The header, the table, each violation (what was sent, what came back, the rule, the fix), a summary."""
    options = report.options
    parts = [
        f"flux-mock verify-receiver: {report.url}",
        f"deliveries: {signing_text(report)}; ack timeout {options.ack_timeout_s:g} s; seed {options.seed}",
        "",
        _table([_row(r) for r in report.results]),
    ]
    for result in report.results:
        if result.passed:
            continue
        parts += ["", f"{result.scenario}: {len(result.violations)} violation(s)"]
        parts.extend("  " + line for v in result.violations for line in v.render().splitlines())
    if report.skipped:
        parts += [
            "",
            f"not run without --secret: {', '.join(report.skipped)} (ImaginePro signs nothing; pass the secret your "
            "receiver verifies flux-mock's Standard Webhooks signatures with to run them).",
        ]
    failed = sum(1 for r in report.results if not r.passed)
    parts += [
        "",
        f"{len(report.results) - failed} of {len(report.results)} scenario(s) passed; "
        f"{len(report.violations)} violation(s).",
    ]
    return "\n".join(parts)


def junit_xml(report: ReceiverReport) -> str:
    """JUnit XML: one test case per scenario, one <failure> per violation, every exchange in system-out."""
    suite = ET.Element(
        "testsuite",
        name="flux-mock verify-receiver",
        tests=str(len(report.results)),
        failures=str(sum(1 for r in report.results if not r.passed)),
        errors="0",
        skipped="0",
        time=f"{sum(r.duration for r in report.results):.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="url", value=xml_text(report.url))
    ET.SubElement(properties, "property", name="signing", value=signing_text(report))
    for result in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname="flux-mock.verify-receiver",
            name=result.scenario,
            time=f"{result.duration:.3f}",
        )
        for violation in result.violations:
            failure = ET.SubElement(case, "failure", type=result.scenario, message=xml_text(violation.message))
            failure.text = xml_text(violation.render())
        lines = [f"{e.what}\n  sent: {e.sent.curl}\n  got: {e.answer.describe()}" for e in result.exchanges]
        ET.SubElement(case, "system-out").text = xml_text("\n".join(lines))
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
