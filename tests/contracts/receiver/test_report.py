"""The report: a table, each violation with the rule and a curl line, the skipped scenarios; and JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from mutant_receivers import DuplicateIs500, GoodReceiver

from contracts.receiver.report import format_report, format_result_line, junit_xml
from contracts.receiver.run import ReceiverOptions, ReceiverReport, verify_receiver


def _report(app: object, **options: object) -> ReceiverReport:
    return verify_receiver(app, ReceiverOptions(**options), path="/hook")  # type: ignore[arg-type]


def test_the_report_of_a_failing_receiver() -> None:
    report = _report(DuplicateIs500().app, scenarios=("done", "duplicate", "burst:3"), seed=3)
    text = format_report(report)
    lines = text.splitlines()
    assert lines[0] == "flux-mock verify-receiver: http://receiver.invalid/hook"
    assert lines[1] == "deliveries: unsigned, like ImaginePro's; ack timeout 10 s; seed 3"
    assert lines[3].split() == ["scenario", "result", "sent", "answers", "slowest", "violations"]
    assert lines[4].split()[:4] == ["done", "pass", "1", "200"]
    assert lines[5].split()[:5] == ["duplicate", "FAIL", "2", "200,", "500"]
    assert lines[6].split()[:4] == ["burst:3", "pass", "3", "200"]
    assert "duplicate: 1 violation(s)\n  [duplicate] one final delivery twice" in text
    assert "    contract: answer every valid delivery with a 2xx within the ack timeout" in text
    assert "    sent: final DONE, attempt 2, X-Mock-Delivery-Id " in text
    assert "-H 'X-Mock-Attempt: 2'" in text
    assert "    got: 500 in " in text
    assert "integrity error" in text
    assert lines[-1] == "2 of 3 scenario(s) passed; 1 violation(s)."
    assert format_result_line(report.results[1]) == "duplicate: FAIL (1 violation(s)), 2 sent, answers 200, 500"


def test_signature_scenarios_left_out_are_named() -> None:
    text = format_report(_report(GoodReceiver().app, scenarios=("done", "default")))
    assert "not run without --secret: bad-signature, missing-signature, tampered-body" in text
    assert text.endswith("7 of 7 scenario(s) passed; 0 violation(s).")


def test_junit_has_a_case_per_scenario_and_every_exchange() -> None:
    report = _report(DuplicateIs500().app, scenarios=("done", "duplicate"))
    suite = ET.fromstring(junit_xml(report)).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    done, duplicate = suite.findall("testcase")
    assert done.find("failure") is None
    failure = duplicate.find("failure")
    assert failure is not None
    assert failure.get("type") == "duplicate"
    assert "curl -sS -i -X POST" in (failure.text or "")
    out = duplicate.findtext("system-out") or ""
    assert out.count("curl ") == 2
    assert "got: 500" in out
