"""``flux-mock drift``: a recording of the mock shows no drift; a recording of a mutant names its mutation."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from mutants import MUTANTS
from proxy_session import proxy_app, session, upstream

from contracts.drift.replay import Finding, as_json, drift, junit_xml, render_table
from mock_server import VirtualClock, load_har


def recording(tmp_path: Path, mutant: str | None) -> Path:
    import asyncio

    target = tmp_path / f"{mutant or 'faithful'}.har"

    async def run() -> None:
        clock = VirtualClock()
        chosen = next(m for m in MUTANTS if m.name == mutant) if mutant else None
        app = proxy_app(upstream(chosen, clock), clock, record=str(target))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1") as client:
            await session(client, clock)
        app.state.recorder.close()

    asyncio.run(run())
    return target


def test_a_recording_of_the_mock_shows_no_drift(tmp_path: Path) -> None:
    findings = drift(load_har(recording(tmp_path, None)), seed=7)  # the mutants' seed: the same job pacing
    assert findings == [], render_table(findings)
    assert render_table(findings).startswith("No drift")


@pytest.mark.parametrize(
    ("mutant", "kind", "pointer", "rule", "inferred"),
    [
        ("done-without-images", "field-removed", "/images", "#/components/schemas/Message/properties/images", True),
        ("status-outside-enum", "enum-not-in-spec", "/status", "#/components/schemas/Message/properties/status/enum",
         False),
        ("progress-101", "rule-broken", "/progress", "#/components/schemas/Message/properties/progress/maximum", False),
        ("express-error-shape", "field-removed", "/statusCode", "#/components/schemas/Error/properties/statusCode",
         False),
        ("500-on-valid-body", "status", "", "#/paths/~1api~1v1~1flux~1imagine/post/responses/500", False),
        ("never-finishes", "lifecycle", "/statuses", "#/components/schemas/Message/properties/status", False),
    ],
)  # fmt: skip
def test_a_mutant_recording_names_the_field_the_rule_and_whether_it_is_inferred(
    tmp_path: Path, mutant: str, kind: str, pointer: str, rule: str, inferred: bool
) -> None:
    findings = drift(load_har(recording(tmp_path, mutant)), seed=7)
    wanted = [f for f in findings if (f.kind, f.pointer, f.rule) == (kind, pointer, rule)]
    assert wanted, render_table(findings)
    assert {f.inferred for f in wanted} == {inferred}


def test_reports_are_readable_json_and_junit() -> None:
    finding = Finding("field-removed", "error", "#3 GET /x", "/images", None, ["u"], "#/a", True, "left out")
    assert "field-removed" in render_table([finding])
    assert "yes" in render_table([finding]).splitlines()[1]
    assert '"inferred": true' in as_json([finding])
    assert 'failures="1"' in junit_xml([finding])
    assert 'failures="0"' in junit_xml([])


def test_the_drift_command_exits_1_on_findings_of_chosen_severities(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from contracts.commands.drift import drift as command

    clean, broken = recording(tmp_path, None), recording(tmp_path, "done-without-images")
    runner = CliRunner()
    assert runner.invoke(command, [str(clean), "--seed", "7"]).exit_code == 0
    failed = runner.invoke(command, [str(broken), "--seed", "7", "--junit", str(tmp_path / "r.xml")])
    assert failed.exit_code == 1
    assert "#/components/schemas/Message/properties/images" in failed.output
    assert (tmp_path / "r.xml").read_text().count("<failure") >= 1
    assert runner.invoke(command, [str(broken), "--seed", "7", "--fail-on", "info"]).exit_code == 0
    assert runner.invoke(command, [str(broken), "--fail-on", "fatal"]).exit_code == 2
    assert runner.invoke(command, ["--help"]).exit_code == 0


def test_the_proxy_command_has_help_and_refuses_a_bad_upstream() -> None:
    from click.testing import CliRunner

    from contracts.commands.proxy import proxy

    runner = CliRunner()
    assert "--upstream" in runner.invoke(proxy, ["--help"]).output
    bad = runner.invoke(proxy, ["--upstream", "ftp://x"])
    assert bad.exit_code == 2  # a usage error
    assert "must be an http:// or https:// URL" in bad.output
