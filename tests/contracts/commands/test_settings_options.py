"""`flux-mock proxy` and `drift` take their mock settings from `Settings`: one declaration, flag and env alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from contracts.commands.drift import drift
from contracts.commands.proxy import PROXY_DEFAULTS, proxy
from mock_server import Settings


def test_the_proxys_settings_are_generated_with_their_env_var_and_its_own_port() -> None:
    text = CliRunner().invoke(proxy, ["--help"]).output
    for flag, env in [("--port", "FLUX_MOCK_PORT"), ("--scenarios", "FLUX_MOCK_SCENARIOS_FILE")]:
        assert flag in text
        assert env in text
    assert "default: 8081" in " ".join(text.split())


def test_a_command_default_yields_to_the_environment_and_a_flag_to_both(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.from_cli({"port": None}, defaults=PROXY_DEFAULTS).port == 8081
    monkeypatch.setenv("FLUX_MOCK_PORT", "9000")
    assert Settings.from_cli({"port": None}, defaults=PROXY_DEFAULTS).port == 9000
    assert Settings.from_cli({"port": "9100"}, defaults=PROXY_DEFAULTS).port == 9100


def test_drift_names_a_bad_setting_like_serve_does(tmp_path: Path) -> None:
    recording = tmp_path / "empty.har"
    recording.write_text('{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": []}}')
    done = CliRunner().invoke(drift, [str(recording), "--job-seconds", "fast"])
    assert done.exit_code != 0
    assert "--job-seconds has value 'fast'" in done.output


def test_redact_without_record_is_a_usage_error_naming_record() -> None:
    result = CliRunner().invoke(proxy, ["--upstream", "http://127.0.0.1:9", "--redact", "/prompt"])
    assert result.exit_code == 2
    assert "--redact only applies with --record, which was not given: add --record" in " ".join(result.output.split())
