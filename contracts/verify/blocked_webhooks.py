"""Webhooks the mock refused to send during a verify run (outcome ``blocked`` in its webhook journal).

A client that passes ``webhookOverride`` with a host off the mock's allow-list gets its job, but the mock
never contacts that host (a test run must not post to the internet). That is not a client violation, yet a
client developer waiting for the webhook needs to know: the verify report lists each such host once, with
the mock's reason and the flag that allows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class BlockedWebhook:
    """Every blocked webhook to one host.

    Attributes:
        host: the host of the ``webhookOverride`` URL.
        reason: why the mock refused it (the journal's ``error`` of the first one).
        count: how many webhooks to that host were not sent.
        message_ids: the jobs concerned (first few).
    """

    host: str
    reason: str
    count: int
    message_ids: tuple[str, ...] = ()

    @property
    def fix(self) -> str:
        """How to let the mock send to this host."""
        return f"--webhook-allow-host {self.host}"

    def describe(self) -> str:
        """One line: host, count, reason, fix."""
        jobs = f" (jobs {', '.join(self.message_ids)})" if self.message_ids else ""
        return (
            f"{self.host}: {self.count} webhook(s) not sent{jobs}: {self.reason}; to have the mock send them, "
            f"pass {self.fix} (flux-mock verify and flux-mock serve both take it)"
        )


def blocked_webhooks(attempts: Iterable[Any]) -> tuple[BlockedWebhook, ...]:
    """Group the ``blocked`` entries of a webhook journal (`mock_server.WebhookAttempted`) by host, in order."""
    hosts: dict[str, list[Any]] = {}
    for attempt in attempts:
        if getattr(attempt, "outcome", None) == "blocked":
            host = urlsplit(str(attempt.url)).hostname or str(attempt.url)
            hosts.setdefault(host, []).append(attempt)
    return tuple(
        BlockedWebhook(
            host,
            next((str(a.error) for a in found if a.error), "the host is not on the mock's webhook allow-list"),
            len(found),
            tuple(dict.fromkeys(str(a.message_id) for a in found))[:3],
        )
        for host, found in hosts.items()
    )


def merge(groups: Iterable[Iterable[BlockedWebhook]]) -> tuple[BlockedWebhook, ...]:
    """One entry per host over several runs (counts added, the first reason kept)."""
    merged: dict[str, BlockedWebhook] = {}
    for group in groups:
        for item in group:
            seen = merged.get(item.host)
            if seen is None:
                merged[item.host] = item
            else:
                ids = tuple(dict.fromkeys((*seen.message_ids, *item.message_ids)))[:3]
                merged[item.host] = BlockedWebhook(item.host, seen.reason, seen.count + item.count, ids)
    return tuple(merged.values())
