"""Failure records and the ContractViolation error."""

from __future__ import annotations

import pytest

from contracts.core.failures import NOT_GIVEN, ContractFailure, ContractViolation, raise_for


def test_render_shows_where_what_and_how_to_reproduce() -> None:
    failure = ContractFailure(
        "done_has_images",
        "uri must be the first image",
        operation="GET /api/v1/message/fetch/{messageId}",
        pointer="/uri",
        expected="https://a/1.png",
        actual="https://a/2.png",
        message_id="m-1",
        curl="curl -X POST ...\ncurl -X GET ...",
        seed=42,
        notes=("x-inferred: the mock's choice",),
    )
    text = failure.render()
    assert text.splitlines()[0] == (
        "[done_has_images] GET /api/v1/message/fetch/{messageId} (messageId m-1): uri must be the first image"
    )
    assert '  expected: "https://a/1.png"' in text
    assert '  actual:   "https://a/2.png"' in text
    assert "  at: /uri" in text
    assert "  note: x-inferred" in text
    assert "  reproduce (seed 42):\n    curl -X POST ...\n    curl -X GET ..." in text
    assert str(failure) == text


def test_none_is_shown_but_not_given_is_not() -> None:
    shown = ContractFailure("c", "m", actual=None).render()
    hidden = ContractFailure("c", "m").render()
    assert "actual:   null" in shown
    assert "actual" not in hidden
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"


def test_long_values_are_cut() -> None:
    assert "..." in ContractFailure("c", "m", actual="x" * 1000).render()


def test_with_context_fills_in_fields() -> None:
    failure = ContractFailure("c", "m").with_context(curl="curl x", seed=1)
    assert (failure.curl, failure.seed, failure.check) == ("curl x", 1, "c")


def test_violation_is_an_assertion_error_with_every_failure() -> None:
    found = [ContractFailure("a", "first"), ContractFailure("b", "second")]
    with pytest.raises(AssertionError, match="2 contract failures") as info:
        raise_for(found)
    assert isinstance(info.value, ContractViolation)
    assert info.value.failures == tuple(found)
    assert "[a]: first" in str(info.value)
    assert "[b]: second" in str(info.value)
    raise_for([])
