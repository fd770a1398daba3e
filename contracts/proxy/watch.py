"""`LifecycleWatch`: the contract kit's checks (`contracts.checks.traffic.Traffic`) as ``flux-mock proxy``'s observer.

The proxy (in `mock_server`) validates each answer against its schema; the watch adds what needs memory across
requests (each job's polls, what an answer means for the request that caused it) and hands it back as the
journal's `Violation`s, so a broken field is reported once.
"""

from __future__ import annotations

from contracts import checks
from contracts.checks.traffic import Traffic
from contracts.core.failures import NOT_GIVEN, ContractFailure
from mock_server import ProxiedExchange, Violation


def as_violation(failure: ContractFailure) -> Violation:
    """A contract failure as the journal's `Violation`: pointer, value and hint (what the check enforces)."""
    return Violation(
        "response",
        failure.pointer,
        failure.check,
        None if failure.expected is NOT_GIVEN else failure.expected,
        None if failure.actual is NOT_GIVEN else failure.actual,
        failure.message,
        f"the upstream must keep the rule: {checks.CHECKS.get(failure.check, failure.check)}",
    )


class LifecycleWatch(Traffic):
    """An observer for `create_proxy_app(..., observe=LifecycleWatch())`: call it with each exchange.

    Example:
        watch = LifecycleWatch()
        app = create_proxy_app(settings, options, observe=watch)
    """

    def __call__(self, exchange: ProxiedExchange) -> list[Violation]:
        """The upstream's violations in this exchange (empty when it kept the contract)."""
        return [as_violation(f) for f in self.failures(exchange)]
