"""The --scenarios file: validated at start, errors name the file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mock_server import ScenarioError, Settings, VirtualClock, create_app
from mock_server.domain.scenarios.file import load_rules, parse_rules
from mock_server.run.cli import main

GOOD = """\
# standing rules for the QA run
- scenario: fail
  prompt_regex: "^fail"
- scenario: reject:429
  count: 2
- scenario: "latency:300, flaky:4"
"""


def test_a_good_file_gives_rules_in_order() -> None:
    rules = parse_rules(GOOD, "qa.yaml")
    assert [r.as_dict()["scenario"] for r in rules] == ["fail", "reject:429", "latency:300,flaky:4"]
    assert rules[0].prompt_regex is not None
    assert rules[0].prompt_regex.pattern == "^fail"
    assert rules[1].remaining == 2
    assert rules[2].remaining is None
    assert [r.source for r in rules] == ["qa.yaml:2", "qa.yaml:4", "qa.yaml:6"]


def test_an_empty_file_has_no_rules() -> None:
    assert parse_rules("# nothing yet\n") == []


@pytest.mark.parametrize(
    ("text", "where", "fragment"),
    [
        ("- scenario: fail\n  count: [1\n", "f.yaml:3:1", "not valid YAML"),
        ("scenario: fail\n", "f.yaml:1:1", "must be a list of rules"),
        ("- fail\n", "f.yaml:1:3", "rule 1 must be a mapping"),
        ("- scenario: fail\n- count: 2\n", "f.yaml:2:3", "rule 2 has no 'scenario' key"),
        ("- scenario: fail\n  cuont: 2\n", "f.yaml:2:3", "unknown key 'cuont'. Did you mean 'count'?"),
        ("- scenario: fail\n- scenario: fial\n", "f.yaml:2:13", "Unknown scenario 'fial'. Did you mean 'fail'?"),
        ("- scenario: slow\n", "f.yaml:1:13", "needs an argument: slow:<seconds>"),
        ("- scenario: fail\n  count: 0\n", "f.yaml:2:10", "count has value 0"),
        ("- scenario: fail\n  count: two\n", "f.yaml:2:10", "count has value 'two'"),
        ("- scenario: fail\n  prompt_regex: '('\n", "f.yaml:2:17", "not a valid regular expression"),
        ("- scenario: 5\n", "f.yaml:1:13", "scenario has value 5"),
    ],
)
def test_bad_files_name_the_line_and_the_problem(text: str, where: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_rules(text, "f.yaml")
    assert str(info.value).startswith(where + ": "), str(info.value)
    assert fragment in str(info.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_rules(tmp_path / "absent.yaml")


def test_create_app_validates_the_file_at_start(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- scenario: fial\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml:1:13: Unknown scenario"):
        create_app(Settings(scenarios_file=str(path)), clock=VirtualClock())


def test_serve_reports_a_bad_file_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("- scenario: fail\n  count: -3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--scenarios", str(path)])
    assert result.exit_code == 1
    assert "bad.yaml:2:10: count has value -3" in result.output
    assert "Traceback" not in result.output


def test_serve_reports_a_bad_default_scenario() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--scenario", "latency"])
    assert result.exit_code == 2  # a usage error
    assert "--scenario (env FLUX_MOCK_SCENARIO, keyword scenario) has value 'latency'" in result.output
    assert "needs an argument: latency:<ms>" in result.output
