"""The ledger: creates one at a time, in order, each charged its x-credits price where a balance is shown."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from contracts import VirtualTimer
from contracts.check.lifecycle.ledger import Ledger
from contracts.checks.refusals import UNLIMITED
from contracts.core.calls import Caller
from contracts.core.reporting import Cost, Outcome
from mock_server import VirtualClock

BASE = "http://server.test"


def bank(balance: Any, charge: dict[str, int], status: int = 200) -> Caller:
    """A server whose account-info shows `balance`, lowered by `charge[button or path]` per create."""
    state = {"balance": balance, "made": 0}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(status, json={"credits": state["balance"]})
        sent = json.loads(request.content)
        key = sent.get("button") or request.url.path
        if isinstance(state["balance"], int):
            state["balance"] -= charge.get(key, 0)
        state["made"] += 1
        return httpx.Response(200, json={"success": True, "messageId": f"job-{state['made']}", "createdAt": "x"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url=BASE)
    return Caller(client, client, BASE, VirtualTimer(VirtualClock()), Cost())


def charges(caller: Caller, *sent: tuple[str, dict[str, Any]]) -> Outcome:
    async def go() -> Outcome:
        ledger = Ledger(caller)
        await ledger.open()
        for operation_id, body in sent:
            await ledger.send(operation_id, body, f"{operation_id} {body.get('button', '')}".strip())
        return ledger.charges()

    return asyncio.run(go())


FLUX = ("fluxImagine", {"prompt": "a fox", "n": 2})
V1 = ("mjButton", {"messageId": "m", "button": "V1"})
REROLL = ("mjButton", {"messageId": "m", "button": "\U0001f504"})
CANCEL = ("mjButton", {"messageId": "m", "button": "Cancel Job"})
PRICES = {"/api/v1/flux/imagine": 12, "V1": 5, "\U0001f504": 10}


def test_each_create_charged_its_price_passes() -> None:
    outcome = charges(bank(1000, PRICES), FLUX, V1, REROLL, CANCEL)
    assert outcome.status == "passed", outcome.failures
    assert outcome.detail == "4 job(s) made; 4 create(s) judged against their x-credits price"


def test_a_wrong_charge_names_the_action_its_price_and_what_changed() -> None:
    outcome = charges(bank(1000, {**PRICES, "V1": 10, "Cancel Job": 5}), FLUX, V1, CANCEL)
    first, second = outcome.failures
    assert first.check == "credits_match_charges"
    assert "before mjButton V1 (mjButton, x-credits 5) and 978 (a change of -10) after it" in first.message
    assert (first.expected, first.actual) == (983, 978)
    assert first.curl is not None
    assert "/api/v1/nova/button" in first.curl
    assert "mock's choice (x-inferred)" in " ".join(first.notes)
    assert "Cancel Job (mjButton, x-credits 0)" in second.message


@pytest.mark.parametrize(
    ("balance", "status", "reason"),
    [
        (UNLIMITED, 200, "the balance is unlimited (2147483647): start the server with --credits N"),
        ("many", 200, "answered 200 without a whole-number credits field"),
        (1000, 404, "answered 404 without a whole-number credits field"),
    ],
)
def test_without_a_finite_balance_charges_are_skipped_with_the_reason(balance: Any, status: int, reason: str) -> None:
    outcome = charges(bank(balance, PRICES, status), FLUX)
    assert outcome.status == "skipped"
    assert reason in outcome.detail
