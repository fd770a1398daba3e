"""Account balances: 6 credits per Flux image, 2 per upscale, 401 when they run out."""

from __future__ import annotations

import httpx
import pytest

from mock_server import MockControl, Settings, VirtualClock, create_app
from mock_server.contract.problems import HttpError
from mock_server.domain.credits import Credits
from mock_server.domain.kinds import KINDS

IMAGINE = "/api/v1/flux/imagine"
UPSCALE = "/api/v1/flux/upscale"
NO_CREDITS = {"message": "Insufficient credits", "error": "Unauthorized", "statusCode": 401}


def test_costs() -> None:
    assert KINDS["imagine"].cost({"n": 1}) == 6
    assert KINDS["imagine"].cost({"n": 4}) == 24
    assert KINDS["upscale"].cost({}) == 2


def test_unlimited_unless_a_balance_is_set() -> None:
    credits = Credits()
    assert credits.charge("k", 10**6) is None
    credits.set("k", 7)
    assert credits.charge("k", 6) == 1
    with pytest.raises(HttpError) as info:
        credits.charge("k", 2)
    assert (info.value.status, info.value.body()) == (401, NO_CREDITS)
    assert credits.balance("k") == 1  # a refused charge takes nothing


def test_creates_are_charged_once_some_key_may_have_a_finite_balance() -> None:
    # While no key can run out, a create skips charging (and reckoning its cost); each way a balance appears
    # turns charging on, and a reset turns it off again unless --credits gives every key a balance.
    credits = Credits()
    assert not credits.limited
    credits.set("k", None)
    assert not credits.limited  # unlimited is what every key is already
    credits.set("k", 5)
    assert credits.limited
    credits.reset()
    assert not credits.limited
    credits.apply_scenario("k", 3)
    assert credits.limited
    assert Credits(initial=0).limited
    with_initial = Credits(initial=6)
    with_initial.reset()
    assert with_initial.limited


@pytest.mark.anyio
async def test_a_balance_set_on_a_running_mock_is_charged_from_the_next_create() -> None:
    app = create_app(Settings(job_seconds=3), clock=VirtualClock())
    control: MockControl = app.state.control
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", headers={"Authorization": "Bearer k"}
    ) as api:
        assert (await api.post(IMAGINE, json={"prompt": "x"})).status_code == 200  # unlimited: nothing to charge
        answer = await api.post("/__mock/credits", json={"account": "k", "balance": 7})
        assert answer.status_code == 200, answer.text
        assert (await api.post(IMAGINE, json={"prompt": "x"})).status_code == 200
        assert (await api.post(IMAGINE, json={"prompt": "x"})).json() == NO_CREDITS
    assert control.credits == {"k": 1}


def test_initial_balance_applies_to_every_key() -> None:
    credits = Credits(initial=6)
    assert credits.charge("a", 6) == 0
    assert credits.charge("b", 6) == 0


def test_the_scenario_sets_a_balance_only_when_it_changes() -> None:
    credits = Credits()
    assert credits.apply_scenario("k", 12) is True
    credits.charge("k", 6)
    assert credits.apply_scenario("k", 12) is False
    assert credits.balance("k") == 6
    assert credits.apply_scenario("k", 20) is True
    assert credits.balance("k") == 20


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_balances_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="must be an integer >= 0 or null"):
        Credits().set("k", bad)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_server_wide_credits_charge_per_image_and_upscale() -> None:
    app = create_app(Settings(job_seconds=3, seed=1, credits=14), clock=VirtualClock())
    control: MockControl = app.state.control
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://x", headers={"Authorization": "Bearer k"}
    ) as api:
        assert (await api.post(IMAGINE, json={"prompt": "x", "n": 2})).status_code == 200  # 14 - 12 = 2
        too_dear = await api.post(IMAGINE, json={"prompt": "x"})
        assert (too_dear.status_code, too_dear.json()) == (401, NO_CREDITS)
        upscale = await api.post(UPSCALE, json={"image": "https://cdn.example/a.png", "scale": 2})
        assert upscale.status_code == 200  # 2 - 2 = 0
        message_id = upscale.json()["messageId"]
        assert (await api.get(f"/api/v1/message/fetch/{message_id}")).status_code == 200  # polls are free
        invalid = await api.post(IMAGINE, json={"prompt": "x", "n": 9})
        assert invalid.status_code == 400  # validation comes first; nothing is charged for a bad request
    assert control.credits == {"k": 0}
    assert len(control.jobs) == 2
    control.reset()
    assert control.credits == {}
