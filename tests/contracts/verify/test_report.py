"""The verify report: a text table for people, JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from contracts.verify.blocked_webhooks import blocked_webhooks
from contracts.verify.checks import ClientViolation
from contracts.verify.report import format_report, junit_xml
from contracts.verify.run import ClientRun, ScenarioResult, VerifyOptions, VerifyReport
from mock_server import WebhookAttempted


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


def attempt(seq: int, url: str, outcome: str = "blocked", message_id: str = "job-1") -> WebhookAttempted:
    error = f"host {url.split('/')[2]} is not on the webhook allow-list" if outcome == "blocked" else None
    return WebhookAttempted(
        seq=seq,
        at=1.0,
        delivery_id=f"d{seq}",
        message_id=message_id,
        event="final",
        attempt=0,
        url=url,
        headers={},
        payload="{}",
        status=None,
        latency_ms=0.0,
        error=error,
        outcome=outcome,  # type: ignore[arg-type]
    )


def test_blocked_webhooks_are_listed_once_per_host_with_reason_and_fix() -> None:
    first = blocked_webhooks(
        [
            attempt(1, "https://hooks.example.org/a", message_id="job-1"),
            attempt(2, "http://127.0.0.1:9/ok", outcome="delivered"),
            attempt(3, "https://hooks.example.org/b", message_id="job-2"),
        ]
    )
    second = blocked_webhooks([attempt(1, "https://other.test/x", message_id="job-3")])
    results = (
        ScenarioResult("success", "zero", ClientRun(0, False, 1.0), 3, 2, (), first),
        ScenarioResult("fail", "failure", ClientRun(1, False, 1.0), 3, 2, (), first + second),
    )
    text = format_report(VerifyReport(("python", "c.py"), VerifyOptions(), results))
    assert "webhooks the mock blocked (never sent; not a violation):" in text
    assert text.count("hooks.example.org: ") == 1
    assert "hooks.example.org: 4 webhook(s) not sent (jobs job-1, job-2)" in text
    assert "host hooks.example.org is not on the webhook allow-list" in text
    assert "pass --webhook-allow-host hooks.example.org" in text
    assert "other.test: 1 webhook(s) not sent (jobs job-3)" in text
    assert "127.0.0.1" not in text  # delivered webhooks are not listed
    assert text.rstrip().endswith("2 of 2 scenario(s) passed; 0 violation(s).")


def test_no_blocked_webhooks_no_section() -> None:
    assert "blocked" not in format_report(sample_report())


def test_verify_passes_extra_allowed_hosts_to_the_mock() -> None:
    from contracts.verify.run import mock_settings

    settings = mock_settings("success", VerifyOptions(webhook_allow_hosts=("hooks.example.org",)))
    assert "hooks.example.org" in settings.webhook_allow_hosts
    assert "127.0.0.1" in settings.webhook_allow_hosts
