"""Judging answers (pure): what each expectation accepts, and what a violation says."""

from __future__ import annotations

import pytest

from contracts.receiver.exchanges import Answer, Exchange, Sent
from contracts.receiver.scenarios import SCENARIOS
from contracts.receiver.verdicts import acceptable, judge, labels

ACK = 0.5


@pytest.mark.parametrize(
    ("expect", "ok", "not_ok"),
    [
        ("ack", [200, 202, 204], [301, 400, 404, 409, 422, 429, 500, 503]),
        ("tolerate", [200, 204, 400, 401, 422], [302, 429, 500, 502]),
        ("reject", [400, 401, 403, 422], [200, 204, 302, 429, 500]),
    ],
)
def test_what_each_expectation_accepts(expect: str, ok: list[int], not_ok: list[int]) -> None:
    scenario = next(s for s in SCENARIOS.values() if s.expect == expect)
    for status in ok:
        assert acceptable(scenario, Answer(status, 5.0), ACK), status
        assert not acceptable(scenario, Answer(status, ACK * 1000 + 1), ACK), f"{status} too late"
    for status in not_ok:
        assert not acceptable(scenario, Answer(status, 5.0), ACK), status
    assert not acceptable(scenario, Answer(None, 500.0, error="no answer within 0.5 s", timed_out=True), ACK)


def _exchange(status: int | None, what: str = "final DONE, attempt 1") -> Exchange:
    answer = Answer(status, 3.0, "oops") if status else Answer(None, 500.0, error="no answer within 0.5 s")
    return Exchange(what, Sent("http://127.0.0.1:9/hook", (("X-Mock-Attempt", "1"),), b"{}"), answer)


def test_each_bad_answer_is_a_violation_that_says_what_the_contract_wants() -> None:
    scenario = SCENARIOS["duplicate"]
    [violation] = judge(scenario, "duplicate", [_exchange(200), _exchange(500, "final DONE, attempt 2")], ACK)
    assert violation.message.startswith("one final delivery twice")
    assert "the receiver answered 500, which the sender retries. Fix: deduplicate on webhook-id" in violation.message
    assert violation.contract == scenario.contract
    text = violation.render()
    assert "  sent: final DONE, attempt 2\n    curl -sS -i -X POST http://127.0.0.1:9/hook" in text
    assert text.endswith("got: 500 in 3 ms: oops")
    failure = violation.as_failure(seed=7)
    assert (failure.check, failure.operation, failure.seed) == ("duplicate", "POST http://127.0.0.1:9/hook", 7)
    assert failure.curl == violation.exchange.sent.curl  # type: ignore[union-attr]


def test_a_burst_is_one_violation_counting_the_late_answers() -> None:
    exchanges = [_exchange(200), _exchange(None), _exchange(None), _exchange(503)]
    [violation] = judge(SCENARIOS["burst"], "burst:4", exchanges, ACK)
    assert violation.message.startswith("3 of 4 deliveries sent at once were not acknowledged in time")
    assert "(no answer x2, 503); the first: the receiver gave no answer within 0.5 s" in violation.message


def test_labels_count_repeats_in_order() -> None:
    answers = [Answer(200, 1.0), Answer(200, 1.0), Answer(None, 1.0, timed_out=True), Answer(500, 1.0)]
    assert labels(answers) == "200 x2, timeout, 500"
