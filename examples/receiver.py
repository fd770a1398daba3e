"""A small, well-behaved webhook receiver: what `flux-mock verify-receiver` holds receivers to.

    FLUX_MOCK_WEBHOOK_SECRET=whsec_... python examples/receiver.py          # POST http://127.0.0.1:8000/hook
    flux-mock verify-receiver http://127.0.0.1:8000/hook --secret whsec_...

What makes it well-behaved:
- with a secret, it verifies every delivery (Standard Webhooks: the raw body and the webhook-* headers) before
  anything else, and answers 400 when the signature, the timestamp or the body does not hold;
- it answers 400 to a body that is not a Message it can use (never a 5xx: the sender would retry it);
- it deduplicates on the delivery id (`webhook-id`, else `X-Mock-Delivery-Id`) and answers 2xx again for a
  delivery already handled;
- it keeps a job's final state: a progress event after DONE or FAIL is acknowledged and ignored;
- it answers at once (slow work, such as downloading the images, belongs after the answer).

Environment: FLUX_MOCK_WEBHOOK_SECRET (the secret `flux-mock serve --webhook-secret` signs with; unset: unsigned
deliveries, as ImaginePro sends them), RECEIVER_PORT (default 8000). GET / answers 200, for health checks.
"""

from __future__ import annotations

import json
import os
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

STATUSES = ("QUEUED", "PROCESSING", "DONE", "FAIL")
SECRET = os.environ.get("FLUX_MOCK_WEBHOOK_SECRET") or None
seen: set[str] = set()  # delivery ids handled (a real receiver keeps them in its database)
finished: set[str] = set()  # messageIds that reached DONE or FAIL


def problem_with(message: Any) -> str | None:
    """Why a body is not a Message this receiver can use, or None."""
    if not isinstance(message, dict) or not isinstance(message.get("messageId"), str):
        return "not a Message: no messageId"
    if message.get("status") not in STATUSES:
        return f"status {message.get('status')!r} is not one of {', '.join(STATUSES)}"
    progress = message.get("progress")
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        return f"progress {progress!r} is not an integer in 0..100"
    return None


async def hook(request: Request) -> JSONResponse:
    body = await request.body()
    headers = dict(request.headers)
    if SECRET is not None:
        try:
            Webhook(SECRET).verify(body, headers)
        except WebhookVerificationError as exc:
            return JSONResponse({"error": f"not verified: {exc}"}, 400)
    try:
        message = json.loads(body)
    except ValueError:
        message = None
    problem = problem_with(message)
    if problem is not None:
        return JSONResponse({"error": problem}, 400)
    delivery = headers.get("webhook-id") or headers.get("x-mock-delivery-id") or ""
    if delivery in seen:
        return JSONResponse({"duplicate": delivery})
    seen.add(delivery)
    if message["messageId"] in finished:
        return JSONResponse({"ignored": "the job already finished"})
    if message["status"] in ("DONE", "FAIL"):
        finished.add(message["messageId"])
    return JSONResponse({"ok": True})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


app = Starlette(routes=[Route("/hook", hook, methods=["POST"]), Route("/", health)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("RECEIVER_PORT", "8000")), log_level="warning")
