"""Rate limits and credit balances belong to an API key, not to the replica that answers."""

from __future__ import annotations

from typing import Any

from fleet_harness import API_KEY, OTHER_KEY, Fleet

IMAGINE = "/api/v1/flux/imagine"


def test_the_documented_rate_limit_counts_a_key_on_every_replica(fleet: Fleet) -> None:
    a, b = fleet.start(2, "--rate-limit", "documented", "--api-key", OTHER_KEY)

    first = a.api("POST", IMAGINE, json={"prompt": "on A"})
    assert first.status_code == 200, first.text
    second = b.api("POST", IMAGINE, json={"prompt": "on B, right after"})
    assert second.status_code == 429, (second.status_code, second.text)
    assert second.headers.get("Retry-After", "").isdigit(), dict(second.headers)
    assert int(second.headers["Retry-After"]) >= 1

    other = b.api("POST", IMAGINE, json={"prompt": "another key"}, key=OTHER_KEY)
    assert other.status_code == 200, other.text


def test_a_credit_balance_is_spent_on_every_replica(fleet: Fleet) -> None:
    a, b = fleet.start(2, "--credits", "12", "--show-keys", "full", "--api-key", OTHER_KEY)

    a.create("6 credits on A")
    b.create("6 credits on B")
    for replica in (a, b):
        refused = replica.api("POST", IMAGINE, json={"prompt": "nothing left"})
        assert refused.status_code == 401, (replica, refused.status_code, refused.text)
        assert "Insufficient credits" in str(refused.json()["message"]), refused.text

    balances: list[dict[str, Any]] = [r.admin_ok("GET", "/credits") for r in (a, b)]
    assert balances[0] == balances[1]
    assert balances[0]["balances"][API_KEY] == 0

    # Another key has its own balance; a top-up through one replica is spendable on the other.
    b.create("another key's own 12", key=OTHER_KEY)
    b.admin_ok("POST", "/credits", json={"account": API_KEY, "balance": 6})
    assert a.admin_ok("GET", "/credits")["balances"][API_KEY] == 6
    a.create("the top-up")
    assert b.api("POST", IMAGINE, json={"prompt": "spent again"}).status_code == 401
    shown = [r.admin_ok("GET", "/credits")["balances"] for r in (a, b)]
    assert shown[0] == shown[1] == {API_KEY: 0, OTHER_KEY: 6}
