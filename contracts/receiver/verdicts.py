"""Judging a receiver's answers (pure): what each expectation accepts, and the violations with the rule and fix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from contracts.receiver.exchanges import Answer, Exchange
from contracts.receiver.scenarios import Scenario

if TYPE_CHECKING:
    from contracts.core.failures import ContractFailure


@dataclass(frozen=True, slots=True)
class ReceiverViolation:
    """One broken rule: the scenario, what happened and the fix, what the contract says, and the exchange."""

    scenario: str
    message: str
    contract: str
    exchange: Exchange | None = None

    def render(self) -> str:
        """Multi-line text: the message, the rule, the request as a curl line and the answer."""
        lines = [f"[{self.scenario}] {self.message}", f"  contract: {self.contract}"]
        if self.exchange is not None:
            lines += [f"  sent: {self.exchange.what}", f"    {self.exchange.sent.curl}"]
            lines.append(f"  got: {self.exchange.answer.describe()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def as_failure(self, seed: int) -> ContractFailure:
        """The kit's `ContractFailure` for this violation (what pytest shows through `ContractViolation`)."""
        from contracts.core.failures import NOT_GIVEN, ContractFailure

        exchange = self.exchange
        return ContractFailure(
            check=self.scenario,
            message=self.message,
            operation=f"POST {exchange.sent.url}" if exchange else None,
            expected=self.contract,
            actual=exchange.answer.describe() if exchange else NOT_GIVEN,
            curl=exchange.sent.curl if exchange else None,
            seed=seed,
            source="verify-receiver",
        )


def acceptable(scenario: Scenario, answer: Answer, ack_timeout_s: float) -> bool:
    """Whether one answer honours the scenario's expectation."""
    status = answer.status
    if status is None or answer.latency_ms > ack_timeout_s * 1000:
        return False
    client_error = 400 <= status < 500 and status != 429  # a 429 is retried: not a refusal
    if scenario.expect == "ack":
        return 200 <= status < 300
    if scenario.expect == "tolerate":
        return 200 <= status < 300 or client_error
    return client_error


def _problem(scenario: Scenario, answer: Answer, ack_timeout_s: float) -> str:
    """What was wrong with one answer, for the scenario's message."""
    status = answer.status
    if status is None:
        return f"the receiver gave {answer.error}"
    if answer.latency_ms > ack_timeout_s * 1000:
        took = f"{answer.latency_ms:.0f} ms"
        return f"the receiver answered {status} after {took}, past the {ack_timeout_s:g} s ack timeout"
    if scenario.expect == "reject":
        if 200 <= status < 300:
            return f"the receiver accepted it with {status}"
        return f"the receiver answered {status}, not a 4xx refusal" + (" (a 429 is retried)" if status == 429 else "")
    if status >= 500 or status == 429:
        return f"the receiver answered {status}, which the sender retries"
    if 300 <= status < 400:
        return f"the receiver answered {status}; redirects are not followed, so the delivery counts as failed"
    return f"the receiver answered {status}, which ends the delivery as failed"


def judge(
    scenario: Scenario, text: str, exchanges: Sequence[Exchange], ack_timeout_s: float
) -> tuple[ReceiverViolation, ...]:
    """The violations among one scenario's exchanges: one per bad answer, or one summary for a burst."""
    bad = [e for e in exchanges if not acceptable(scenario, e.answer, ack_timeout_s)]
    if not bad:
        return ()
    if scenario.name == "burst":
        found = labels(e.answer for e in bad)
        first = bad[0]
        message = (
            f"{len(bad)} of {len(exchanges)} deliveries sent at once were not acknowledged in time ({found}); "
            f"the first: {_problem(scenario, first.answer, ack_timeout_s)}. Fix: {scenario.fix}."
        )
        return (ReceiverViolation(text, message, scenario.contract, first),)
    return tuple(
        ReceiverViolation(
            text,
            f"{scenario.sends}: {_problem(scenario, e.answer, ack_timeout_s)}. Fix: {scenario.fix}.",
            scenario.contract,
            e,
        )
        for e in bad
    )


def labels(answers: Iterable[Answer]) -> str:
    """Answers in a few characters, e.g. ``200 x4`` or ``200, 500``."""
    counts: dict[str, int] = {}
    for answer in answers:
        counts[answer.label] = counts.get(answer.label, 0) + 1
    return ", ".join(f"{label} x{n}" if n > 1 else label for label, n in counts.items())
