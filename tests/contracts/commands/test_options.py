"""The kit's commands generate their options from their options dataclasses, and share --junit and the words."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from contracts.check.run import CheckOptions
from contracts.commands.check import check
from contracts.commands.drift import drift
from contracts.commands.options import ReportOptions
from contracts.commands.proxy import proxy
from contracts.commands.receiver import verify_receiver
from contracts.commands.verify import RULE_OPTIONS, verify
from contracts.drift.replay import DriftOptions
from contracts.receiver.run import ReceiverOptions
from contracts.verify.checks import ClientRules
from contracts.verify.run import VerifyOptions
from mock_server import ProxyOptions
from mock_server.config.options import declared, flag_name
from mock_server.run.cli import serve

COMMANDS: list[tuple[click.Command, list[tuple[type, tuple[str, ...] | None]]]] = [
    (check, [(CheckOptions, None), (ReportOptions, None)]),
    (verify, [(VerifyOptions, None), (ClientRules, RULE_OPTIONS), (ReportOptions, None)]),
    (drift, [(DriftOptions, None), (ReportOptions, None)]),
    (proxy, [(ProxyOptions, None)]),
    (verify_receiver, [(ReceiverOptions, None), (ReportOptions, None)]),
]


def _flags(command: click.Command) -> set[str]:
    return {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


@pytest.mark.parametrize(("command", "sources"), COMMANDS, ids=lambda c: getattr(c, "name", ""))
def test_every_declared_field_is_an_option_of_its_command(
    command: click.Command, sources: list[tuple[type, tuple[str, ...] | None]]
) -> None:
    flags = _flags(command)
    for cls, only in sources:
        for spec in declared(cls, only):
            assert flag_name(spec) in flags, f"{command.name}: {cls.__name__}.{spec.name} has no {flag_name(spec)}"


def test_every_reporting_command_has_the_one_junit_option() -> None:
    # One declaration (ReportOptions), so the flag, its help and its metavar are the same everywhere.
    helps = set()
    for command in (check, verify, drift, verify_receiver):
        [param] = [p for p in command.params if "--junit" in p.opts]
        assert isinstance(param, click.Option)
        helps.add((param.help, param.metavar))
    assert len(helps) == 1


@pytest.mark.parametrize("command", [serve, verify, drift], ids=lambda c: str(c.name))
def test_job_seconds_takes_the_same_words_on_every_command(command: click.Command, tmp_path: Path) -> None:
    # `--job-seconds fast` is refused with the same message by each; `realistic` is a word each accepts.
    args = ["--job-seconds", "fast"] + (["--", "true"] if command is verify else [])
    if command is drift:
        (tmp_path / "empty.har").write_text('{"log": {"entries": []}}', encoding="utf-8")
        args = [str(tmp_path / "empty.har"), *args]
    result = CliRunner().invoke(command, args)
    assert result.exit_code == 2, result.output
    assert "--job-seconds has value 'fast'" in result.output
    assert "realistic" in result.output


def test_a_bad_value_is_a_usage_error_naming_the_flag() -> None:
    result = CliRunner().invoke(check, ["--base-url", "http://127.0.0.1:1", "--max-examples", "0"])
    assert result.exit_code == 2
    assert "--max-examples" in result.output
    assert "at least 1" in result.output
