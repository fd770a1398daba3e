"""Webhooks the way production sends them: delivery, retries, signing, safety, journal, faults, receiver.

Modules, one concept each:

- `service`: turns job state changes into deliveries (listens to the job store, schedules events);
- `delivery`: the dispatcher (background POSTs, bounded concurrency, retries, shutdown);
- `retry`: the retry schedule (exponential backoff with seeded jitter, Retry-After);
- `events`: pure instants at which a job's visible state changes;
- `signing`: opt-in Standard Webhooks signatures (wraps the `standardwebhooks` package);
- `targets`: the host allow-list that keeps the mock from being an open proxy;
- `faults`: drop, delay, duplicate, out-of-order, early, corrupt;
- `journal`: every attempt, as `WebhookAttempted` records;
- `routes`: ``GET /__mock/webhooks``;
- `receiver`: a reusable recording receiver (`WebhookReceiver`) for tests.
"""

from __future__ import annotations

from mock_server.webhooks.delivery import Delivery, Dispatcher
from mock_server.webhooks.faults import HEADER as FAULT_HEADER
from mock_server.webhooks.faults import WebhookFaults, parse_faults
from mock_server.webhooks.journal import WebhookAttempted, WebhookJournal
from mock_server.webhooks.receiver import ReceivedWebhook, WebhookReceiver, WebhookRecorder, WebhookReply, payload_violations, receiver_app
from mock_server.webhooks.retry import backoff_delay, parse_retry_after
from mock_server.webhooks.routes import webhook_admin_routes
from mock_server.webhooks.service import WebhookService
from mock_server.webhooks.signing import Signer

__all__ = [
    "FAULT_HEADER",
    "Delivery",
    "Dispatcher",
    "ReceivedWebhook",
    "Signer",
    "WebhookAttempted",
    "WebhookFaults",
    "WebhookJournal",
    "WebhookReceiver",
    "WebhookRecorder",
    "WebhookReply",
    "WebhookService",
    "backoff_delay",
    "parse_faults",
    "parse_retry_after",
    "payload_violations",
    "receiver_app",
    "webhook_admin_routes",
]
