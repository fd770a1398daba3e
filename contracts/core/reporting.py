"""Results of a ``flux-mock check`` run: outcomes, the readable summary and the JUnit XML file."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from contracts.core.failures import ContractFailure

Status = Literal["passed", "failed", "skipped", "error"]
_SEVERITY: dict[Status, int] = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


@dataclass
class Cost:
    """What one part of a run spent against the server."""

    requests: int = 0
    jobs: int = 0

    def add(self, requests: int = 0, jobs: int = 0) -> None:
        """Count more requests and jobs."""
        self.requests += requests
        self.jobs += jobs


@dataclass
class Outcome:
    """One reported test case: a schemathesis phase x operation, a lifecycle job, or a probe group.

    Attributes:
        suite: ``schemathesis`` or ``lifecycle`` (the JUnit testsuite).
        name: e.g. ``coverage: POST /api/v1/flux/imagine`` or ``job imagine n=2``.
        status: passed, failed, skipped or error (error: the check could not run to the end).
        seconds: wall time spent.
        failures: every contract failure found.
        detail: why it was skipped or errored, or a short note on what was covered.
    """

    suite: str
    name: str
    status: Status = "passed"
    seconds: float = 0.0
    failures: list[ContractFailure] = field(default_factory=list)
    detail: str = ""

    def fail(self, failures: Iterable[ContractFailure]) -> None:
        """Add failures (deduplicated: the same check, place and message are kept once)."""
        seen = {(f.check, f.operation, f.pointer, f.message) for f in self.failures}
        for failure in failures:
            key = (failure.check, failure.operation, failure.pointer, failure.message)
            if key not in seen:
                seen.add(key)
                self.failures.append(failure)
        if self.failures:
            self.escalate("failed")

    def escalate(self, status: Status, detail: str = "") -> None:
        """Raise the status to `status` if that is worse, keeping the first detail given."""
        if _SEVERITY[status] > _SEVERITY[self.status]:
            self.status = status
        if detail and not self.detail:
            self.detail = detail


@dataclass
class CheckReport:
    """Everything a check run found, plus what it cost."""

    base_url: str
    seed: int
    outcomes: list[Outcome] = field(default_factory=list)
    costs: dict[str, Cost] = field(default_factory=dict)
    budget: str = ""
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    diagnosis: str = ""  # one line on why most answers failed (a refused key, a wrong URL, no server), if known

    @property
    def failures(self) -> list[ContractFailure]:
        """Every failure of every outcome."""
        return [f for outcome in self.outcomes for f in outcome.failures]

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing errored (skips are allowed)."""
        return all(o.status in ("passed", "skipped") for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        """0 only when nothing failed."""
        return 0 if self.ok else 1

    def count(self, status: Status) -> int:
        """How many outcomes have `status`."""
        return sum(1 for o in self.outcomes if o.status == status)

    def cost(self, part: str) -> Cost:
        """The cost counter of one part of the run (created on first use)."""
        return self.costs.setdefault(part, Cost())


_MARK = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip", "error": "ERR "}


def render_summary(report: CheckReport, *, verbose: bool = False) -> str:
    """The readable summary ``flux-mock check`` prints."""
    lines = [f"flux-mock check {report.base_url}  (seed {report.seed})", ""]
    if report.diagnosis:
        lines[1:1] = [f"diagnosis: {report.diagnosis}"]
    for suite in dict.fromkeys(o.suite for o in report.outcomes):
        lines.append(f"{suite}:")
        # schemathesis skips its examples phase for each operation whose schema has none: one line, not one each.
        no_examples = [o for o in report.outcomes if o.suite == suite and _no_examples(o)]
        for outcome in (o for o in report.outcomes if o.suite == suite):
            if (outcome.status == "passed" and not verbose) or outcome in no_examples:
                continue
            extra = f"  ({outcome.detail})" if outcome.detail else ""
            count = f"  {len(outcome.failures)} failure(s)" if outcome.failures else ""
            lines.append(f"  {_MARK[outcome.status]} {outcome.name}{count}{extra}")
        if no_examples:
            lines.append(
                f"  {_MARK['skipped']} examples: {len(no_examples)} operation(s) have no examples in openapi.yaml "
                "(nothing to replay; the coverage and fuzzing phases cover them; names in --junit, or -v)"
            )
            if verbose:
                lines += [f"       {o.name.removeprefix('examples: ')}" for o in no_examples]
        passed = sum(1 for o in report.outcomes if o.suite == suite and o.status == "passed")
        lines.append(f"  {passed} passed")
    lines += ["", "cost (requests sent, jobs created):"]
    for part, cost in report.costs.items():
        lines.append(f"  {part:<22} {cost.requests:>6} requests  {cost.jobs:>5} jobs")
    if report.budget:
        lines.append(f"  budget: {report.budget}")
    lines += [f"note: {note}" for note in report.notes]
    failures = report.failures
    if failures:
        # One entry per check and operation: the same bug found by several phases or jobs is shown once.
        groups: dict[tuple[str, str | None], list[ContractFailure]] = {}
        for failure in failures:
            groups.setdefault((failure.check, failure.operation), []).append(failure)
        lines += ["", f"{len(failures)} failure(s), {len(groups)} distinct:"]
        for index, similar in enumerate(groups.values(), start=1):
            text = similar[0].render().replace("\n", "\n   ")
            lines.append(f"{index:>2}. {text}")
            if len(similar) > 1:
                lines.append(f"    (+{len(similar) - 1} more of this check on this operation; all are in --junit)")
        lines.append(f"\nRerun the same cases: flux-mock check --base-url {report.base_url} --seed {report.seed}")
    errors = [o for o in report.outcomes if o.status == "error"]
    for outcome in errors[:5]:
        lines.append(f"error in {outcome.suite} / {outcome.name}: {outcome.detail}")
    if len(errors) > 5:
        lines.append(f"... and {len(errors) - 5} more errors (all are in --junit)")
    verdict = "PASSED" if report.ok else "FAILED"
    lines.append(
        f"\n{verdict}: {report.count('passed')} passed, {report.count('failed')} failed, "
        f"{report.count('error')} errors, {report.count('skipped')} skipped in {report.seconds:.1f} s"
    )
    return "\n".join(lines)


def _no_examples(outcome: Outcome) -> bool:
    return outcome.status == "skipped" and "no examples in schema" in outcome.detail.lower()


# Characters XML 1.0 cannot hold (control characters a client or a receiver may send); they become U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` as XML 1.0 can hold it: every character it cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def junit_xml(report: CheckReport) -> ET.Element:
    """The report as a JUnit ``<testsuites>`` element (one testsuite per suite)."""
    root = ET.Element(
        "testsuites",
        name="flux-mock check",
        tests=str(len(report.outcomes)),
        failures=str(report.count("failed")),
        errors=str(report.count("error")),
        skipped=str(report.count("skipped")),
        time=f"{report.seconds:.3f}",
    )
    for suite in dict.fromkeys(o.suite for o in report.outcomes):
        members = [o for o in report.outcomes if o.suite == suite]
        node = ET.SubElement(
            root,
            "testsuite",
            name=suite,
            tests=str(len(members)),
            failures=str(sum(o.status == "failed" for o in members)),
            errors=str(sum(o.status == "error" for o in members)),
            skipped=str(sum(o.status == "skipped" for o in members)),
            time=f"{sum(o.seconds for o in members):.3f}",
        )
        props = ET.SubElement(node, "properties")
        for name, value in (("base_url", report.base_url), ("seed", str(report.seed)), ("budget", report.budget)):
            ET.SubElement(props, "property", name=name, value=value)
        for outcome in members:
            case = ET.SubElement(
                node, "testcase", classname=f"flux-mock-check.{suite}", name=outcome.name, time=f"{outcome.seconds:.3f}"
            )
            if outcome.status == "failed":
                first = outcome.failures[0] if outcome.failures else None
                failure = ET.SubElement(
                    case,
                    "failure",
                    type=first.check if first else "failure",
                    message=first.title if first else outcome.detail,
                )
                failure.text = "\n\n".join(f.render() for f in outcome.failures) or outcome.detail
            elif outcome.status == "error":
                ET.SubElement(case, "error", message=outcome.detail or "error").text = outcome.detail
            elif outcome.status == "skipped":
                ET.SubElement(case, "skipped", message=outcome.detail or "skipped")
            elif outcome.detail:
                ET.SubElement(case, "system-out").text = outcome.detail
    return root


def junit_text(report: CheckReport) -> str:
    """The JUnit XML document as text, indented, with its XML declaration."""
    root = junit_xml(report)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: CheckReport, path: str | Path) -> Path:
    """Write the JUnit XML file (parent folders are created) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(junit_text(report), encoding="utf-8")
    return target
