"""The job-kind table charges what openapi.yaml's x-credits say (it does not restate prices)."""

from __future__ import annotations

import pytest

from mock_server.contract.errors import SpecError
from mock_server.domain.kinds import KINDS
from mock_server.domain.kinds import base as kinds_base


def test_every_kind_charges_its_operations_price() -> None:
    assert KINDS["imagine"].cost({"n": 4}) == 24
    assert KINDS["mj-imagine"].cost({"prompt": "a fox --relax", "mode": "relax"}) == 5
    assert KINDS["button"].cost({"button": "\U0001f504"}) == 10
    assert KINDS["blend"].cost({}) == 10
    assert KINDS["command"].cost({}) == 0


def test_a_kind_without_a_price_or_with_two_is_refused() -> None:
    spec = kinds_base.load_spec()
    document = spec.document
    button = document["paths"]["/api/v1/nova/button"]["post"]
    legacy = document["paths"]["/api/v1/midjourney/button"]["post"]
    saved = dict(button)
    kinds_base._price.cache_clear()
    try:
        button["x-credits"] = {"credits": 7}
        with pytest.raises(SpecError, match="give different x-credits; a kind has one price"):
            kinds_base._price("button")
        kinds_base._price.cache_clear()
        del button["x-credits"]
        with pytest.raises(SpecError, match="mjButton create button jobs but give no x-credits"):
            kinds_base._price("button")
        kinds_base._price.cache_clear()
        with pytest.raises(SpecError, match="no operation creates nothing jobs"):
            kinds_base._price("nothing")
    finally:
        button.clear()
        button.update(saved)
        kinds_base._price.cache_clear()
    assert legacy["x-credits"] is button["x-credits"]  # one block, shared through a YAML anchor
