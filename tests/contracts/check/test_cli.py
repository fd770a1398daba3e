"""`flux-mock check` on the command line: options, exit codes, JUnit, reproductions against live servers."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from check_runs import LOCAL
from click.testing import CliRunner
from mutants import API_KEY, MUTANTS

from contracts import CheckOptions
from mock_server import Settings, SystemClock, create_app
from mock_server.run.cli import main
from mock_server.run.server import LiveServer


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"base_url": "ftp://x"}, "must start with http"),
        ({"base_url": "https://api.imaginepro.ai"}, "not loopback: pass the API key"),
        ({"base_url": LOCAL, "phases": frozenset({"fuzz"})}, "unknown phase"),
        ({"base_url": LOCAL, "job_timeout": 5}, "from 10 to 900"),
        ({"base_url": LOCAL, "max_jobs": -1}, "0 or more"),
    ],
)
def test_options_are_validated(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CheckOptions(**options)


CLI_PHASES = "lifecycle,probes,examples"


def test_cli_passes_against_a_live_mock_and_writes_junit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis import configuration

    homes: list[Any] = []
    original = configuration.set_hypothesis_home_dir

    def spy(directory: Any) -> None:
        homes.append(directory and Path(directory).name)
        original(directory)

    monkeypatch.setattr(configuration, "set_hypothesis_home_dir", spy)
    monkeypatch.chdir(tmp_path)
    junit = tmp_path / "check.xml"
    settings = Settings(job_seconds=0.6, api_keys=(API_KEY,))
    with LiveServer(settings=settings) as server:
        started = time.monotonic()
        result = CliRunner().invoke(
            main,
            [
                "check",
                "--base-url",
                server.url,
                "--token",
                API_KEY,
                "--seed",
                "5",
                "--phases",
                CLI_PHASES,
                "--max-examples",
                "3",
                "--poll-interval",
                "0.2",
                "--junit",
                str(junit),
            ],
        )
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60
    assert f"flux-mock check {server.url}  (seed 5)" in result.output
    assert "PASSED" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["check.xml"]  # no .schemathesis/ or reports left
    assert homes[0].startswith("flux-mock-check-")  # Hypothesis' storage went to a temporary folder
    assert homes[-1] is None
    root = ET.parse(junit).getroot()
    assert root.get("failures") == "0"
    assert int(root.get("tests", "0")) > 40


def test_cli_fails_against_a_broken_live_server_with_a_reproduction() -> None:
    mutant = next(m for m in MUTANTS if m.name == "uri-not-first-image")
    app = mutant.build(SystemClock())
    server = LiveServer(app)
    app.app = mutant.build(SystemClock(), job_seconds=0.3, public_url=server.url).app  # image URLs on this port
    with server:
        result = CliRunner().invoke(
            main,
            [
                "check",
                "--base-url",
                server.url,
                "--token",
                API_KEY,
                "--seed",
                "5",
                "--phases",
                "lifecycle",
                "--poll-interval",
                "0.1",
                "--no-webhooks",  # the mutants record webhooks instead of sending them
            ],
        )
    assert result.exit_code == 1
    assert "[done_has_images]" in result.output
    assert "uri must be the first image" in result.output
    assert f"curl -sS -X POST {server.url}/api/v1/flux/imagine" in result.output
    assert '"Authorization: Bearer $IMAGINEPRO_API_KEY"' in result.output
    assert API_KEY not in result.output
    assert "reproduce (seed 5):" in result.output
    # the only bug is the one the mutant has (in every job whose result is images)
    assert re.search(r"\b\d+ failure\(s\), 1 distinct:", result.output), result.output


def test_cli_reports_an_unreachable_server_once() -> None:
    with LiveServer(create_app(Settings())) as server:
        url = server.url  # a loopback port that was just closed
    result = CliRunner().invoke(main, ["check", "--base-url", url, "--request-timeout", "2"])
    assert result.exit_code == 1
    assert result.output.count("ERR ") == 1
    assert "cannot reach the server: ConnectError" in result.output
    assert "FAILED: 0 passed, 0 failed, 1 errors" in result.output


def test_cli_refuses_a_remote_url_without_a_token() -> None:
    result = CliRunner().invoke(
        main, ["check", "--base-url", "https://api.imaginepro.ai"], env={"IMAGINEPRO_API_KEY": ""}
    )
    assert result.exit_code == 2
    assert "pass the API key with --token" in result.output


def test_cli_is_offered_by_flux_mock() -> None:
    result = CliRunner().invoke(main, ["check", "--help"])
    assert result.exit_code == 0
    assert "--max-jobs" in result.output
    assert "--junit" in result.output


def test_bad_rate_limit_is_refused_before_anything_is_sent() -> None:
    from click.testing import CliRunner

    from contracts.commands.check import check

    result = CliRunner().invoke(check, ["--base-url", "http://127.0.0.1:9", "--rate-limit", "abc"])
    assert result.exit_code == 2
    assert "must look like 10/s" in result.output
