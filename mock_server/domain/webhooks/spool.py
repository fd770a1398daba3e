"""What the mock could not deliver at shutdown: listed on the console and, optionally, spooled to a file.

Two kinds of record, one JSON object per line (the file is appended to, so restarts accumulate):

- ``{"type": "delivery", ...}``: a delivery abandoned at shutdown, with its payload and attempts so far;
- ``{"type": "job", ...}``: a job that had not finished, whose webhook was still due (``dueAt``, epoch s).

A crash (SIGKILL) writes nothing; a shared store is what makes the outbox durable.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from mock_server.domain.webhooks.events import final_at

if TYPE_CHECKING:
    from mock_server.domain.jobs import Job
    from mock_server.services.webhooks.delivery import Delivery

log = logging.getLogger("flux_mock.webhooks")
SHOWN = 50  # lines on the console; the spool file has them all


def records(deliveries: Sequence[Delivery], jobs: Sequence[tuple[Job, str]]) -> list[dict[str, Any]]:
    """The spool records for abandoned `deliveries` and unfinished `jobs` (with their webhook URL)."""
    found: list[dict[str, Any]] = [
        {
            "type": "delivery",
            "deliveryId": d.delivery_id,
            "messageId": d.message_id,
            "event": d.event,
            "url": d.url,
            "attempts": d.attempts,
            "payload": d.body.decode("utf-8", "replace"),
        }
        for d in deliveries
    ]
    found += [
        {"type": "job", "messageId": job.message_id, "event": "final", "url": url, "dueAt": final_at(job.plan)}
        for job, url in jobs
    ]
    return found


def _detail(record: dict[str, Any]) -> str:
    if record["type"] == "delivery":
        return f" (delivery {record['deliveryId']}, {record['attempts']} attempt(s))"
    return " (job unfinished)"


def report_undelivered(deliveries: Sequence[Delivery], jobs: Sequence[tuple[Job, str]], spool: str | None) -> None:
    """Say what was not delivered (every item, up to `SHOWN` on the console) and append it to `spool`."""
    found = records(deliveries, jobs)
    if not found:
        return
    lines = [f"  {r['type']} {r['messageId']} -> {r['url']}{_detail(r)}" for r in found[:SHOWN]]
    if len(found) > SHOWN:
        lines.append(f"  ... and {len(found) - SHOWN} more" + (f" (all in {spool})" if spool else ""))
    where = f"written to {spool}" if spool else "not kept: start with --webhook-spool FILE to keep them"
    if spool:
        try:
            with Path(spool).open("ab") as handle:
                handle.writelines(orjson.dumps(r) + b"\n" for r in found)
        except OSError as exc:
            where = f"NOT written to {spool}: {exc.strerror}"
    log.warning(
        "At shutdown %d webhook delivery(ies) were abandoned and %d unfinished job(s) still had a webhook due; %s:\n%s",
        len(deliveries),
        len(jobs),
        where,
        "\n".join(lines),
    )
