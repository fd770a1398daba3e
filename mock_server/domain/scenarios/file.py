"""The ``--scenarios file.yaml`` format: standing rules, validated at start with errors naming the line.

A list of rules; each has a ``scenario`` (one or several, comma-separated) and optionally a
``count`` (the next N matching requests) and a ``prompt_regex`` (creates whose prompt matches,
re.search). Without either, the rule applies until cleared. Example::

    - scenario: fail
      prompt_regex: "^fail"
    - scenario: reject:429
      count: 2
    - scenario: latency:300, flaky:4
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mock_server.contract.errors import MockServerError, ScenarioError, did_you_mean
from mock_server.domain.scenarios.armed import Rule, check_count, compile_regex, rule_scenarios

if TYPE_CHECKING:
    import yaml  # imported when a file is read: `serve` without --scenarios never pays for it

KEYS = ("scenario", "count", "prompt_regex")


def load_rules(path: str | Path) -> list[Rule]:
    """Read and validate a scenario file.

    Raises:
        ScenarioError: naming ``file:line:column`` and the problem (YAML syntax, shape, unknown key,
            unknown scenario, bad argument, bad count or regex).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"Scenario file {path} cannot be read: {exc.strerror or exc}.") from None
    return parse_rules(text, str(path))


def parse_rules(text: str, source: str = "<scenarios>") -> list[Rule]:
    """Validate scenario-file text (see `load_rules`)."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ScenarioError(f"{_where(source, mark)}: not valid YAML: {exc.problem or exc}.") from None
    finally:
        loader.dispose()
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise ScenarioError(
            f"{_where(source, root.start_mark)}: the file must be a list of rules, e.g. '- scenario: fail'."
        )
    rules = []
    for index, item in enumerate(root.value, start=1):
        rules.append(_rule(item, index, source, loader))
    return rules


def _rule(node: yaml.Node, index: int, source: str, loader: yaml.SafeLoader) -> Rule:
    import yaml

    where = _where(source, node.start_mark)
    if not isinstance(node, yaml.MappingNode):
        raise ScenarioError(f"{where}: rule {index} must be a mapping with a 'scenario' key, e.g. '- scenario: fail'.")
    values: dict[str, tuple[Any, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key not in KEYS:
            hint = did_you_mean(key, KEYS)
            allowed = ", ".join(KEYS)
            raise ScenarioError(
                f"{_where(source, key_node.start_mark)}: unknown key {key!r}.{hint} Allowed: {allowed}."
            )
        values[key] = (loader.construct_object(value_node, deep=True), value_node)
    if "scenario" not in values:
        raise ScenarioError(f"{where}: rule {index} has no 'scenario' key.")
    checks = {"scenario": rule_scenarios, "count": check_count, "prompt_regex": compile_regex}
    parsed: dict[str, Any] = {}
    for key, check in checks.items():
        value, value_node = values.get(key, (None, node))
        try:
            parsed[key] = check(value)
        except MockServerError as exc:
            raise ScenarioError(f"{_where(source, value_node.start_mark)}: {exc}") from None
    line = f"{source}:{node.start_mark.line + 1}"
    return Rule(index, parsed["scenario"], parsed["count"], parsed["prompt_regex"], line)


def _where(source: str, mark: yaml.Mark | None) -> str:
    if mark is None:
        return source
    return f"{source}:{mark.line + 1}:{mark.column + 1}"
