"""The flux-mock command: flags generated from Settings, clear errors, the start-up banner."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mock_server import Settings
from mock_server.config.options import env_name, flag_name
from mock_server.config.settings import ENV_PREFIX
from mock_server.run.cli import main
from mock_server.run.server import banner


def test_serve_help_lists_every_setting_with_its_env_var() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for f in dataclasses.fields(Settings):
        assert flag_name(f) in result.output
        assert str(env_name(f, ENV_PREFIX)) in result.output.replace("\n", "").replace(" ", "")


def test_flags_override_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUX_MOCK_SEED", "3")
    monkeypatch.setenv("FLUX_MOCK_PORT", "9001")
    settings = Settings.from_cli({"seed": "4", "port": None, "api_keys": ("k1", "k2"), "job_seconds": "instant"})
    assert (settings.seed, settings.port, settings.api_keys, settings.job_seconds) == (4, 9001, ("k1", "k2"), 0.0)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["serve", "--port", "99999"], "0 to 65535"),
        (["serve", "--job-seconds", "fast"], "--job-seconds has value 'fast'"),
        (["serve", "--timestamp-format", "unix"], "'unix' is not one of"),
        (["serve", "--port", "abc"], "--port has value 'abc', which is not a whole number"),
        # A rule of the settings names the flag and the variable the user typed, not the field.
        (["serve", "--concurrency", "0"], "--concurrency (env FLUX_MOCK_CONCURRENCY, keyword concurrency) has value 0"),
        (["serve", "--scenario", "fial"], "Did you mean 'fail'?"),
        (["serve", "--job-secods", "3"], "Did you mean '--job-seconds'?"),  # click's own suggestion
        (["serve", "--rate-limit", "documentd"], "Did you mean 'documented'?"),
        # An option that only applies with another says so, naming both.
        (["serve", "--replay-miss", "mock"], "--replay-miss only applies with --replay (or FLUX_MOCK_REPLAY)"),
        # A recording that cannot be read is a usage error naming its flag, like a bad value.
        (["serve", "--replay", "/nonexistent.har"], "--replay /nonexistent.har: Cannot read the recording"),
        (["serve", "--pace-from", "/nonexistent.har"], "--pace-from /nonexistent.har: Cannot read the recording"),
    ],
)
def test_bad_flags_are_usage_errors_exit_2_with_message(args: list[str], needle: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert needle in result.output


def test_port_in_use_is_a_clear_error() -> None:
    from mock_server.run.listener import bind_socket

    sock = bind_socket("127.0.0.1", 0)
    try:
        result = CliRunner().invoke(main, ["serve", "--port", str(sock.getsockname()[1])])
    finally:
        sock.close()
    assert result.exit_code == 1
    assert "Pick another --port" in result.output


def test_banner_tells_how_to_point_a_client() -> None:
    text = banner(Settings(port=8123, api_keys=("sk-x",)))
    assert "IMAGINEPRO_BASE_URL=http://127.0.0.1:8123" in text
    assert "Bearer sk-x" in text
    assert "/api/v1/flux/imagine" in text


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert "flux-mock" in result.output


def test_python_dash_m_is_the_same_command() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "--job-seconds" in result.stdout


def test_bad_host_is_not_blamed_on_the_port() -> None:
    result = CliRunner().invoke(main, ["serve", "--host", "10.255.255.1", "--port", "0"])
    assert result.exit_code == 1
    assert "Check --host" in result.output


def test_a_pace_from_file_that_cannot_pace_stops_the_start_up_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--pace-from", str(tmp_path / "missing.har")])
    assert result.exit_code == 2  # a file that cannot be read is a usage error, like a bad value
    assert "Cannot read the recording" in result.output
    assert "missing.har" in result.output


def test_an_option_needed_by_another_may_come_from_its_variable() -> None:
    from mock_server.run.options import cli_values

    assert cli_values(Settings, {"replay_miss": "mock"}, env_prefix="FLUX_MOCK_", environ={"FLUX_MOCK_REPLAY": "x"})
    with pytest.raises(click.UsageError, match="add --replay, or drop --replay-miss"):
        cli_values(Settings, {"replay_miss": "mock"}, env_prefix="FLUX_MOCK_", environ={})
