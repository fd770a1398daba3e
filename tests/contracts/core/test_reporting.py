"""The summary text and the JUnit XML of a check run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from contracts.core.failures import ContractFailure
from contracts.core.reporting import CheckReport, Outcome, render_summary, write_junit


def report() -> CheckReport:
    failing = Outcome("lifecycle", "job imagine n=2", seconds=1.5)
    failing.fail([ContractFailure("done_has_images", "uri must be the first image", curl="curl -X GET x", seed=9)])
    failing.fail([ContractFailure("done_has_images", "uri must be the first image", curl="curl -X GET x", seed=9)])
    result = CheckReport(
        base_url="http://127.0.0.1:8080",
        seed=9,
        outcomes=[
            failing,
            Outcome("lifecycle", "rejects fluxImagine n.maximum"),
            Outcome("schemathesis", "stateful: (phase)", status="skipped", detail="phase skipped: not_applicable"),
            Outcome(
                "schemathesis", "coverage: POST /api/v1/flux/imagine", status="error", detail="ConnectError: refused"
            ),
        ],
        budget="1 job(s) created (max 3)",
        seconds=4.2,
    )
    result.cost("lifecycle").add(requests=12, jobs=1)
    return result


def test_failures_are_deduplicated_and_fail_the_outcome() -> None:
    [outcome, *_] = report().outcomes
    assert outcome.status == "failed"
    assert len(outcome.failures) == 1


def test_escalate_keeps_the_worst_status() -> None:
    outcome = Outcome("s", "n", status="failed")
    outcome.escalate("skipped", "why")
    assert outcome.status == "failed"
    assert outcome.detail == "why"


def test_exit_code_is_zero_only_without_failures_and_errors() -> None:
    assert report().exit_code == 1
    clean = CheckReport("http://x", 1, outcomes=[Outcome("s", "a"), Outcome("s", "b", status="skipped")])
    assert clean.ok
    assert clean.exit_code == 0
    assert not CheckReport("http://x", 1, outcomes=[Outcome("s", "e", status="error")]).ok


def test_summary_lists_problems_costs_and_the_replay_command() -> None:
    text = render_summary(report())
    assert "FAIL job imagine n=2  1 failure(s)" in text
    assert "rejects fluxImagine n.maximum" not in text  # passed outcomes only with verbose
    assert "rejects fluxImagine n.maximum" in render_summary(report(), verbose=True)
    assert "lifecycle                  12 requests      1 jobs" in text
    assert "budget: 1 job(s) created (max 3)" in text
    assert "1 failure(s), 1 distinct:" in text
    assert "reproduce (seed 9):" in text
    assert "curl -X GET x" in text
    assert "flux-mock check --base-url http://127.0.0.1:8080 --seed 9" in text
    assert "error in schemathesis / coverage: POST /api/v1/flux/imagine: ConnectError: refused" in text
    assert text.rstrip().endswith("FAILED: 1 passed, 1 failed, 1 errors, 1 skipped in 4.2 s")


def test_summary_groups_the_same_check_on_the_same_operation() -> None:
    result = report()
    more = Outcome("schemathesis", "fuzzing: POST /api/v1/flux/imagine")
    more.fail([ContractFailure("not_a_server_error", f"500 number {i}", operation="POST /x") for i in range(3)])
    result.outcomes.append(more)
    text = render_summary(result)
    assert "4 failure(s), 2 distinct:" in text
    assert "500 number 0" in text
    assert "500 number 1" not in text
    assert "(+2 more of this check on this operation; all are in --junit)" in text


def test_junit_file(tmp_path: Path) -> None:
    path = write_junit(report(), tmp_path / "reports" / "check.xml")
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("4", "1", "1", "1")
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"lifecycle", "schemathesis"}
    props = {p.get("name"): p.get("value") for p in suites["lifecycle"].iter("property")}
    assert props["seed"] == "9"
    assert props["base_url"] == "http://127.0.0.1:8080"
    [failure] = list(suites["lifecycle"].iter("failure"))
    assert failure.get("type") == "done_has_images"
    assert failure.text is not None
    assert "curl -X GET x" in failure.text
    assert suites["schemathesis"].find("testcase/skipped") is not None
    assert suites["schemathesis"].find("testcase/error") is not None


def test_no_examples_skips_fold_into_one_line_and_a_diagnosis_opens_the_summary() -> None:
    skipped = [
        Outcome("schemathesis", f"examples: POST /api/v1/{name}", status="skipped", detail="No examples in schema")
        for name in ("flux/imagine", "flux/upscale", "video/create")
    ]
    other = Outcome("schemathesis", "stateful: (phase)", status="skipped", detail="phase skipped: not_applicable")
    report = CheckReport("http://x", 1, outcomes=[*skipped, other], diagnosis="every answer was 401: pass --token")
    lines = render_summary(report).splitlines()
    assert lines[1] == "diagnosis: every answer was 401: pass --token"
    folded = [line for line in lines if "no examples" in line.lower()]
    assert folded == [
        "  skip examples: 3 operation(s) have no examples in openapi.yaml (nothing to replay; the coverage and "
        "fuzzing phases cover them; names in --junit, or -v)"
    ]
    assert any("stateful: (phase)" in line for line in lines)  # other skips are still listed
    assert "3 skipped" not in lines[-1]  # the verdict still counts every outcome
    assert "4 skipped" in lines[-1]
    verbose = render_summary(report, verbose=True)
    assert "       POST /api/v1/video/create" in verbose
