"""openapi.yaml's x-credits: parsed, evaluated, and refused with the fix when malformed."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.contract.errors import SpecError
from mock_server.contract.prices import parse_price
from mock_server.contract.spec import load_spec


@pytest.mark.parametrize(
    ("operation", "request_body", "credits"),
    [
        ("fluxImagine", {"prompt": "x", "n": 3}, 18),
        ("fluxImagine", {"prompt": "x"}, 6),  # n left out: one image
        ("fluxUpscale", {"image": "u", "scale": 2}, 2),
        ("mjImagine", {"prompt": "a fox --ar 3:2"}, 10),
        ("mjImagineLegacy", {"prompt": "a fox --RELAX --ar 3:2"}, 5),
        ("mjImagine", {"prompt": "a fox --relaxed"}, 10),  # not the flag
        ("mjButton", {"messageId": "m", "button": "U1"}, 5),
        ("mjButtonLegacy", {"messageId": "m", "button": "\U0001f504"}, 10),
        ("mjButton", {"messageId": "m", "button": "Cancel Job"}, 0),
        ("videoExtend", {"messageId": "m", "index": 1}, 10),
    ],
)
def test_each_operation_costs_what_its_x_credits_say(
    operation: str, request_body: dict[str, Any], credits: int
) -> None:
    price = load_spec().price(operation)
    assert price is not None
    assert price.of(request_body) == credits


def test_every_create_operation_has_a_price_and_reads_have_none() -> None:
    spec = load_spec()
    assert all(spec.price(op.operation_id) is not None for op in spec.by_role("create"))
    assert all(spec.price(op.operation_id) is None for op in spec.by_role("poll"))


def test_undocumented_prices_are_marked_inferred() -> None:
    spec = load_spec()
    blend, flux = spec.price("mjBlend"), spec.price("fluxImagine")
    assert blend is not None
    assert "no documented price" in str(blend.inferred)
    assert flux is not None
    assert flux.inferred is None  # the skill documents 6 per image


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([6], "must be a mapping with credits"),
        ({"credits": -1}, "credits must be a whole number of 0 or more, not -1"),
        ({"credits": True}, "credits must be a whole number"),
        ({"credits": 5, "times": 2}, "times must name a request field"),
        ({"credits": 5, "cases": [{"field": "button", "credits": 0}]}, "give exactly one of equals"),
        ({"credits": 5, "cases": [{"credits": 0, "equals": "x"}]}, "a case needs a field"),
    ],
)
def test_a_malformed_block_is_refused_naming_where_and_the_fix(raw: Any, message: str) -> None:
    with pytest.raises(SpecError, match="POST /x") as caught:
        parse_price(raw, "POST /x")
    assert message in str(caught.value)
