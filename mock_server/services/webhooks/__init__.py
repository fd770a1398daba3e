"""Sending webhooks: `service` (job changes → deliveries), `delivery` (the dispatcher) and `outbox`."""
