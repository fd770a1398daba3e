"""Which scenarios apply to a request: four ways to choose, one engine (`middleware.selection` applies it).

Sources, first match wins (a lower source is not consulted, and an armed count is not used up):

1. the ``X-Mock-Scenario: fail, latency:200`` header, or its alias ``Prefer: scenario=fail``;
2. ``[mock:fail]`` directives inside the prompt (stripped from the stored prompt);
3. armed rules (admin API or `MockControl.arm`), oldest first, then the ``--scenarios`` file's rules;
4. the server-wide ``--scenario`` default.

A rule is scoped by what its scenarios act on: a rule with any job scenario is used only by requests
that create a job ("the next N jobs"); a rule of wire scenarios only is used by any API request
("the next N requests"). A ``prompt_regex`` rule matches only creates whose prompt matches (re.search).
"""

from __future__ import annotations

import itertools
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio

from mock_server.domain.jobs import Timing
from mock_server.domain.scenarios.armed import RequestKind, Rule, make_rule
from mock_server.domain.scenarios.registry import JobContext, Scenario, WireEffect, job_timing, parse_list, wire_effect

Sleep = Callable[[float], Any]

DIRECTIVE = re.compile(r"\[mock:([^\]]*)\]", re.IGNORECASE)
_DIRECTIVE_WITH_SPACE = re.compile(r"\s*\[mock:[^\]]*\]\s*", re.IGNORECASE)
_PREFER_ITEM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*(?:=\s*("[^"]*"|[^,;]*))?[^,]*(?:,|$)')


def may_hold_directive(raw: bytes) -> bool:
    """Whether a request body's bytes hold ``[mock:`` in any case (a directive, unless it is not in the prompt).

    Most bodies hold no "[" at all, and lower() copies. find(), not `in`: bytes' `in` first tries the needle as
    an integer, raising and clearing a TypeError whose message it formats (~2.5k instructions, a create's 1%).
    """
    return raw.find(b"[") >= 0 and raw.lower().find(b"[mock:") >= 0


def request_kind(role: str) -> RequestKind:
    """What a rule is scoped by: create, poll or other, from the operation's `x-mock-kind` role."""
    return "create" if role == "create" else "poll" if role == "poll" else "other"


def applies(kind: RequestKind, scenario: Scenario) -> bool:
    """Job scenarios shape jobs, so only creates use them (flaky also counts the polls it is sent on)."""
    return kind == "create" or scenario.kind == "wire" or (kind == "poll" and scenario.name == "flaky")


def strip_directives(prompt: str) -> str:
    """The prompt without ``[mock:...]`` directives (whitespace around them collapses to one space)."""
    return _DIRECTIVE_WITH_SPACE.sub(" ", prompt).strip()


def prefer_scenarios(value: str) -> list[str]:
    """The ``scenario=`` preferences of a Prefer header (RFC 7240), e.g. ``respond-async, scenario=fail``."""
    found = []
    for match in _PREFER_ITEM.finditer(value):
        if match.group(1).lower() == "scenario" and match.group(2):
            found.append(match.group(2).strip().strip('"'))
    return found


@dataclass(frozen=True, slots=True)
class Selection:
    """The scenarios chosen for one request and where they came from."""

    scenarios: tuple[Scenario, ...] = ()
    source: str = "none"  # header, prompt, rule:<id>, default, none
    wire: WireEffect = field(default_factory=WireEffect)
    rule: Rule | None = None  # the armed rule it came from (a shared store decides whether its count allows it)

    @property
    def text(self) -> str:
        """E.g. ``fail:50,latency:100``."""
        return ",".join(s.text for s in self.scenarios)


class ScenarioEngine:
    """Armed rules, the server default, and the one seeded generator every scenario draws from."""

    def __init__(self, *, seed: int = 0, default: str | None = None, file_rules: list[Rule] | None = None) -> None:
        self.seed = seed
        self.default = parse_list(default) if default else ()
        self._file_rules = list(file_rules or [])
        self._lock = threading.Lock()
        self.sleep: Sleep = anyio.sleep  # injectable: tests replace it so latency costs no real time
        # Set once any job gets a poll fault (not-yet, flaky); until then polls skip the per-job lookup.
        # Never cleared: after a reset it only costs that lookup again.
        self.poll_faults_used = False
        self.reset()

    def reset(self) -> None:
        """Back to the start: only the scenario file's rules (counts restored), a fresh generator, no poll counts."""
        with self._lock:
            self.rng = random.Random(f"flux-mock-scenarios:{self.seed}")
            self._ids = itertools.count(len(self._file_rules) + 1)
            self._rules: list[Rule] = [
                Rule(r.id, r.scenarios, r.remaining, r.prompt_regex, r.source) for r in self._file_rules
            ]
            self._polls: dict[str, int] = {}

    # --- rules ---------------------------------------------------------------------------------------------

    def arm(
        self, scenario: str, *, count: int | None = None, prompt_regex: str | None = None, rule_id: int | None = None
    ) -> Rule:
        """Arm `scenario` for the next `count` matching requests and/or prompts matching `prompt_regex`.

        `rule_id` is a shared store's fleet-wide id; without one, this replica numbers the rule.
        """
        with self._lock:
            rule_id = next(self._ids) if rule_id is None else rule_id
            rule = make_rule(rule_id, scenario, count=count, prompt_regex=prompt_regex)
            # Admin rules go before the file's rules (both oldest first).
            position = sum(1 for r in self._rules if r.source == "admin")
            self._rules.insert(position, rule)
        return rule

    @property
    def idle(self) -> bool:
        """No rule armed and no default: a request without a header or directive selects nothing."""
        return not self._rules and not self.default

    @property
    def wants_prompt(self) -> bool:
        """Whether some rule matches by prompt (so creates' prompts must be read)."""
        return any(r.prompt_regex is not None for r in self._rules)

    @property
    def rules(self) -> list[Rule]:
        """Rules still in force, in the order they are consulted."""
        with self._lock:
            return [r for r in self._rules if r.remaining is None or r.remaining > 0]

    def clear(self) -> int:
        """Disarm every rule (the file's rules come back with `reset`); returns how many were dropped."""
        with self._lock:
            dropped = len([r for r in self._rules if r.remaining is None or r.remaining > 0])
            self._rules.clear()
        return dropped

    # --- selection -----------------------------------------------------------------------------------------

    def select(self, kind: RequestKind, header: list[str], prompt: str | None) -> Selection:
        """Resolve the scenarios of one request (see the module docstring for the order)."""
        if header:
            chosen, source = parse_list(header), "header"
        elif prompt is not None and DIRECTIVE.search(prompt):
            chosen, source = parse_list(m.group(1) for m in DIRECTIVE.finditer(prompt)), "prompt"
        else:
            rule = self._from_rules(kind, prompt)
            chosen, source = (rule.scenarios, f"rule:{rule.id}") if rule is not None else ((), "none")
            if not chosen and self.default:
                chosen, source = self.default, "default"
        if not chosen:
            return Selection()
        with self._lock:
            wire = wire_effect(chosen, self.rng)
        return Selection(chosen, source, wire, rule if source.startswith("rule:") else None)

    def _from_rules(self, kind: RequestKind, prompt: str | None) -> Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(kind, prompt):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)  # used up (and the engine may be idle again)
                    return rule
        return None

    def exhaust(self, rule_id: int) -> None:
        """Drop a rule whose count the fleet has used up (a shared store said so)."""
        with self._lock:
            self._rules = [r for r in self._rules if r.id != rule_id]

    def replace_admin_rules(self, rules: list[Rule]) -> None:
        """Take another worker's armed rules (the scenario file's stay); ids continue after the highest."""
        with self._lock:
            self._rules = [*rules, *(r for r in self._rules if r.source != "admin")]
            top = max((r.id for r in self._rules), default=0)
            self._ids = itertools.count(max(top + 1, next(self._ids)))

    @property
    def file_rule_count(self) -> int:
        """How many rules the scenario file arms (ids 1 to this); admin rules are numbered after them."""
        return len(self._file_rules)

    def admin_rules(self) -> list[Rule]:
        """The armed rules that came from the admin API, in force."""
        return [r for r in self.rules if r.source == "admin"]

    def timing(self, selection: Selection, base: Timing, *, kind: str, timeout: float, n: int) -> Timing:
        """The Timing of a job created under `selection`."""
        with self._lock:
            timing = job_timing(selection.scenarios, base, JobContext(kind, timeout, n, self.rng))
        if timing.not_found_for or timing.flaky_every:
            self.poll_faults_used = True  # from now on every poll is checked for its job's own faults
        return timing

    def count_poll(self, message_id: str) -> int:
        """Count one progress poll of a job; returns its 1-based number."""
        with self._lock:
            count = self._polls.get(message_id, 0) + 1
            self._polls[message_id] = count
            return count
