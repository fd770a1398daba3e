"""What each scenario sends: its deliveries as waves of requests (a wave goes at once, waves one after another),
signed per attempt, and the forgeries of the signature scenarios."""

from __future__ import annotations

import base64
import hashlib
import json

from contracts.receiver.deliveries import Delivery, Harvest, pick
from contracts.receiver.exchanges import Sent, Signing, headers_without
from contracts.receiver.scenarios import SKEW_S, Planned

PROGRESS_SAMPLE = 4  # progress events sent per scenario (of ~100 a Flux job has)
ATTACKER_URL = "https://attacker.invalid/swapped.png"

Wave = list[tuple[str, Sent]]  # (what the request is, the request)


def _describe(delivery: Delivery, attempt: int = 1) -> str:
    status = json.loads(delivery.body).get("status") if delivery.body.startswith(b"{") else None
    return f"{delivery.event} {status}, attempt {attempt}, X-Mock-Delivery-Id {delivery.delivery_id}"


def other_secret(secret: str) -> str:
    """A valid secret that is not `secret` (derived from it, so a run replays)."""
    return "whsec_" + base64.b64encode(hashlib.sha256(b"not-" + secret.encode()).digest()).decode()


def tampered(body: bytes) -> bytes:
    """A DONE Message's body with its image URLs swapped for an attacker's (what a forger would change)."""
    message = json.loads(body)
    message["uri"] = ATTACKER_URL
    message["images"] = [ATTACKER_URL]
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


def requests_for(planned: Planned, found: Harvest, url: str, signing: Signing) -> list[Wave]:
    """What one scenario sends, as waves: the requests of a wave go at once, waves one after another."""
    name = planned.scenario.name

    def sent(delivery: Delivery, attempt: int = 1) -> tuple[str, Sent]:
        values = signing.headers(delivery, attempt)
        return _describe(delivery, attempt), Sent(url, tuple(values.items()), delivery.body)

    if name == "burst":
        return [[sent(found.final(f"burst-{i}")) for i in range(planned.count)]]
    if name == "progress":
        return [[sent(d)] for d in pick(found.progress("progress"), PROGRESS_SAMPLE)]
    if name in ("progress-after-final", "early-final"):
        final = found.final(name)
        return [[sent(final)], *([sent(d)] for d in pick(found.progress(name), PROGRESS_SAMPLE - 1))]
    delivery = found.final(name)
    if name == "duplicate":
        return [[sent(delivery, 1)], [sent(delivery, 2)]]
    if not planned.scenario.signed:
        return [[sent(delivery)]]
    assert signing.secret is not None  # plan() keeps signature scenarios out of unsigned runs
    what = _describe(delivery)
    headers = signing.headers(delivery)
    body = delivery.body
    if name == "bad-signature":
        forged = signing.sign(other_secret(signing.secret), delivery.delivery_id, body)
        headers["webhook-signature"] = forged["webhook-signature"]
        what += ", signed with another secret"
    elif name == "missing-signature":
        headers = headers_without(headers, "webhook-signature")
        what += ", no webhook-signature header"
    elif name == "tampered-body":
        body = tampered(body)
        what += ", body changed after signing (image URLs swapped)"
    else:
        offset = -SKEW_S if name == "stale-timestamp" else SKEW_S
        headers = signing.headers(delivery, timestamp=signing.now() + offset)
        what += f", webhook-timestamp {abs(offset) // 60} minutes {'old' if offset < 0 else 'ahead'}"
    return [[(what, Sent(url, tuple(headers.items()), body))]]
