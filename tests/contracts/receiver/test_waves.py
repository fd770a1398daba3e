"""What each scenario sends: the mock's deliveries, re-signed per attempt, and the forgeries."""

from __future__ import annotations

import json

import pytest
from mutant_receivers import SECRET
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from contracts.receiver.deliveries import harvest
from contracts.receiver.exchanges import Signing
from contracts.receiver.scenarios import BURST_DEFAULT, parse
from contracts.receiver.waves import ATTACKER_URL, PROGRESS_SAMPLE, Wave, other_secret, requests_for, tampered

URL = "http://127.0.0.1:9/hook"


def _waves(text: str, secret: str | None = SECRET) -> list[Wave]:
    return requests_for(parse(text), harvest(0, BURST_DEFAULT), URL, Signing(secret))


def test_a_duplicate_is_one_delivery_twice_attempts_1_and_2() -> None:
    [[(_, first)], [(second_what, second)]] = _waves("duplicate")
    assert first.body == second.body
    assert first.header("webhook-id") == second.header("webhook-id") == first.header("X-Mock-Delivery-Id")
    assert (first.header("X-Mock-Attempt"), second.header("X-Mock-Attempt")) == ("1", "2")
    assert "attempt 2" in second_what


def test_progress_and_after_final_waves_go_one_at_a_time_in_order() -> None:
    progress = _waves("progress")
    assert len(progress) == PROGRESS_SAMPLE
    assert all(len(wave) == 1 and wave[0][0].startswith("progress PROCESSING") for wave in progress)
    after = _waves("progress-after-final")
    assert after[0][0][0].startswith("final DONE")
    assert [w[0][0].split(",")[0] for w in after[1:]] == ["progress PROCESSING"] * (PROGRESS_SAMPLE - 1)


def test_a_burst_is_one_wave_of_distinct_deliveries() -> None:
    [wave] = _waves("burst:5")
    assert len({sent.header("webhook-id") for _, sent in wave}) == 5


def test_unsigned_waves_carry_no_signature() -> None:
    [[(_, sent)]] = _waves("done", secret=None)
    assert sent.header("webhook-signature") is None


@pytest.mark.parametrize(
    ("scenario", "error"),
    [
        ("bad-signature", "No matching signature found"),
        ("missing-signature", "Missing required headers"),
        ("tampered-body", "No matching signature found"),
        ("stale-timestamp", "Message timestamp too old"),
        ("future-timestamp", "Message timestamp too new"),
    ],
)
def test_each_forgery_fails_standard_webhooks_verification_for_its_own_reason(scenario: str, error: str) -> None:
    [[(what, sent)]] = _waves(scenario)
    assert what.startswith("final DONE, attempt 1")
    with pytest.raises(WebhookVerificationError, match=error):
        Webhook(SECRET).verify(sent.body, dict(sent.headers))
    [[(_, honest)]] = _waves("done")
    assert Webhook(SECRET).verify(honest.body, dict(honest.headers))["status"] == "DONE"


def test_the_tampered_body_only_swaps_the_image_urls_and_the_other_secret_differs() -> None:
    body = harvest(0, BURST_DEFAULT).final("tampered-body").body
    original, changed = json.loads(body), json.loads(tampered(body))
    assert changed == {**original, "uri": ATTACKER_URL, "images": [ATTACKER_URL]}
    assert other_secret(SECRET) != SECRET
    assert other_secret(SECRET) == other_secret(SECRET)
    Webhook(other_secret(SECRET))  # a usable secret
