"""The verify report: a text table for people, JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from contracts.client_checks import ClientViolation
from contracts.client_verify import ClientRun, ScenarioResult, VerifyOptions, VerifyReport
from contracts.verify_report import format_report, junit_xml


def sample_report() -> VerifyReport:
    bad = ClientViolation("poll-rate", "sent 40 polls <fast> & loose", (3,))
    results = (
        ScenarioResult("success", "zero", ClientRun(0, False, 1.25, "ok\n"), 5, 3, ()),
        ScenarioResult("fail", "failure", ClientRun(None, True, 9.0, "", "still polling\x01\n"), 40, 38, (bad,)),
    )
    return VerifyReport(("python", "client.py"), VerifyOptions(), results)


def test_text_report_has_a_row_per_scenario_and_each_violation() -> None:
    text = format_report(sample_report())
    assert "scenario  result  exit    expected  requests  polls  duration  violations" in text
    assert "fail      FAIL    killed  failure   40        38     9.0 s     1" in text
    assert "[poll-rate] sent 40 polls" in text
    assert "still polling" in text
    assert text.rstrip().endswith("1 of 2 scenario(s) passed; 1 violation(s).")


def test_junit_report_is_valid_xml_with_one_failure_per_violation() -> None:
    root = ET.fromstring(junit_xml(sample_report()).split("\n", 1)[1])
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["success"].find("failure") is None
    failure = cases["fail"].find("failure")
    assert failure is not None
    assert failure.get("type") == "poll-rate"
    assert "<fast> & loose" in (failure.get("message") or "")
