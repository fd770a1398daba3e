"""Armed scenario rules: "this scenario for the next N jobs/requests, or for prompts matching a regex".

Rules come from the admin API (`MockControl.arm`) and from a ``--scenarios`` file; `selection.py`
consults them. A rule with a job scenario (or a prompt pattern) is used by creates only; a rule of
wire scenarios only is used by any API request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from mock_server.contract.errors import ScenarioError
from mock_server.domain.scenarios.registry import Scenario, parse_list

RequestKind = Literal["create", "poll", "other"]


@dataclass(slots=True)
class Rule:
    """An armed scenario: for the next `remaining` matching requests (None: until cleared), optionally by prompt."""

    id: int
    scenarios: tuple[Scenario, ...]
    remaining: int | None = None
    prompt_regex: re.Pattern[str] | None = None
    source: str = "admin"  # admin, or file:line

    @property
    def job_scoped(self) -> bool:
        """A rule with a job scenario (or a prompt pattern) is used by creates only."""
        return self.prompt_regex is not None or any(s.kind == "job" for s in self.scenarios)

    def matches(self, kind: RequestKind, prompt: str | None) -> bool:
        """Whether this rule applies to a request of `kind` with `prompt`."""
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.job_scoped and kind != "create":
            return False
        return self.prompt_regex is None or (prompt is not None and self.prompt_regex.search(prompt) is not None)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "scenario": ",".join(s.text for s in self.scenarios),
            "remaining": self.remaining,
            "prompt_regex": self.prompt_regex.pattern if self.prompt_regex is not None else None,
            "scope": "jobs" if self.job_scoped else "requests",
            "source": self.source,
        }


def make_rule(
    rule_id: int, scenario: str, *, count: int | None = None, prompt_regex: str | None = None, source: str = "admin"
) -> Rule:
    """Validate and build a rule; ScenarioError / UnknownScenario say what is wrong."""
    return Rule(rule_id, rule_scenarios(scenario), check_count(count), compile_regex(prompt_regex), source)


def rule_scenarios(scenario: object) -> tuple[Scenario, ...]:
    """The scenarios of a rule: text such as ``fail`` or ``fail:50, latency:100``, at least one."""
    if not isinstance(scenario, str):
        raise ScenarioError(f"scenario has value {scenario!r}; it must be text such as 'fail' or 'reject:429'.")
    scenarios = parse_list(scenario)
    if not scenarios:
        raise ScenarioError("A rule needs at least one scenario, e.g. 'fail' or 'reject:429'.")
    return scenarios


def check_count(count: object) -> int | None:
    """A rule's count: an integer >= 1, or None for 'until cleared'."""
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ScenarioError(f"count has value {count!r}; it must be an integer >= 1 (omit it for 'until cleared').")
    return count


def compile_regex(prompt_regex: object) -> re.Pattern[str] | None:
    """A rule's prompt pattern, compiled (None: any request)."""
    if prompt_regex is None:
        return None
    if not isinstance(prompt_regex, str):
        raise ScenarioError(f"prompt_regex has value {prompt_regex!r}; it must be a string.")
    try:
        return re.compile(prompt_regex)
    except re.error as exc:
        raise ScenarioError(f"prompt_regex {prompt_regex!r} is not a valid regular expression: {exc}.") from None
