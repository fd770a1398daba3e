"""Opt-in webhook signatures per the Standard Webhooks spec (a mock extension: ImaginePro documents none).

With ``--webhook-secret whsec_<base64>`` every attempt carries three headers:

- ``webhook-id``: the delivery id (the same on every attempt of one delivery: the idempotency key);
- ``webhook-timestamp``: Unix seconds when the attempt was signed, from the wall clock (not the mock's
  clock), because receivers check it against their own clock with a 5-minute tolerance;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">``.

The crypto is the `standardwebhooks` package's, so a receiver verifies with the same library:

    from standardwebhooks import Webhook
    payload = Webhook(secret).verify(body_bytes, request_headers)   # raises WebhookVerificationError
"""

from __future__ import annotations

import base64
import binascii
import time
from datetime import UTC, datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_HINT = (
    'a Standard Webhooks secret "whsec_" + base64 of 24 to 64 random bytes; make one with: '
    "python -c \"import base64,os; print('whsec_' + base64.b64encode(os.urandom(32)).decode())\""
)


def secret_problem(secret: str) -> str | None:
    """Why `secret` is not a usable signing secret, or None when it is."""
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return f"it is not base64 after the {SECRET_PREFIX} prefix"
    if len(key) < 16:
        return f"it decodes to {len(key)} bytes; use at least 16"
    return None


class Signer:
    """Sign webhook bodies with one secret.

    Example:
        signer = Signer("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        headers = signer.headers("msg_1", b'{"status":"DONE"}')
    """

    def __init__(self, secret: str) -> None:
        problem = secret_problem(secret)
        if problem is not None:
            raise ValueError(f"webhook secret is unusable: {problem}; expected {SECRET_HINT}")
        self._webhook = Webhook(secret)

    def headers(self, delivery_id: str, body: bytes, timestamp: float | None = None) -> dict[str, str]:
        """The three Standard Webhooks headers for one attempt (timestamp: wall-clock seconds, default now)."""
        seconds = int(time.time() if timestamp is None else timestamp)
        moment = datetime.fromtimestamp(seconds, UTC)
        signature: str = self._webhook.sign(delivery_id, moment, body.decode("utf-8"))
        return {"webhook-id": delivery_id, "webhook-timestamp": str(seconds), "webhook-signature": signature}
