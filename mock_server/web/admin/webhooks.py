"""``GET /__mock/webhooks``: the webhook journal over HTTP.

The routes are relative to the ``/__mock`` admin namespace, so the admin module mounts them with its own
guard: ``Mount("/__mock", routes=[*webhook_admin_routes(), ...])``.

Query parameters: ``messageId`` (one job), ``deliveryId`` (one delivery), ``since`` (sequence number;
only later attempts). The answer: ``{"attempts": [...], "pending": N, "inFlight": N, "blockedHosts": [...]}``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_server.contract.problems import error_body
from mock_server.domain.numbers import INT64_MAX, sequence_number
from mock_server.services.webhooks.service import WebhookService
from mock_server.web.answers import json_response


def _service(request: Request) -> WebhookService:
    webhooks: WebhookService = request.app.state.services.webhooks
    return webhooks


async def list_attempts(request: Request) -> Response:
    """Every journalled webhook attempt, oldest first, optionally filtered."""
    service = _service(request)
    query = request.query_params
    since_text = query.get("since", "0")
    since = sequence_number(since_text)
    if since is None:
        body = error_body(
            400, f"since must be a sequence number, an integer from 0 to {INT64_MAX} (got {since_text!r})."
        )
        return json_response(body, 400)
    store = request.app.state.services.store  # every worker's attempts with a shared store
    attempts = await store.webhook_attempts(
        message_id=query.get("messageId"), delivery_id=query.get("deliveryId"), since=since
    )
    content = {
        "attempts": attempts,
        "pending": service.dispatcher.pending,
        "inFlight": service.dispatcher.in_flight,
        # Hosts off the allow-list, once each: their deliveries are journalled as blocked, never sent.
        "blockedHosts": [b.as_dict() for b in service.dispatcher.blocked_hosts.values()],
    }
    return json_response(content)


def webhook_admin_routes() -> list[BaseRoute]:
    """The webhook routes of the admin namespace, relative to ``/__mock``."""
    return [Route("/webhooks", list_attempts, methods=["GET"], name="mock_webhooks")]
