"""Webhook faults for QA: ways a production webhook sender misbehaves, chosen per job or server-wide.

Select them with the request header ``X-Mock-Webhook: <faults>`` (per job) or ``--webhook-fault`` (every
job without the header). Several faults combine with commas, e.g. ``X-Mock-Webhook: duplicate,delay=5``;
``none`` switches a server-wide fault off for one job.

=================  ====================================================================================
``drop``           never sent (journalled as ``dropped``, so it is visible but not delivered)
``delay=N``        each delivery waits N seconds of mock time before its first attempt
``duplicate``      each delivery is sent twice with the same delivery id (as if the first ack was lost)
``out-of-order``   progress events are held back and sent after the final one (implies progress events)
``early``          the final webhook (DONE/FAIL) is sent as soon as the job is PROCESSING, while polling
                   still says PROCESSING; the body is what GET will return when the job ends
``corrupt``        the body breaks the ``webhooks`` schema (for testing a receiver's validation)
=================  ====================================================================================
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import orjson

HEADER = "X-Mock-Webhook"
NAMES: tuple[str, ...] = ("drop", "delay=N", "duplicate", "out-of-order", "early", "corrupt", "none")
_DELAY = re.compile(r"^delay\s*[=: ]\s*(?P<seconds>\d+(?:\.\d+)?)\s*s?$")
MAX_DELAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class WebhookFaults:
    """The faults applied to one job's webhooks (all off by default)."""

    drop: bool = False
    delay_s: float = 0.0
    duplicate: bool = False
    out_of_order: bool = False
    early: bool = False
    corrupt: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """The active faults, spelled as in the header (for journals)."""
        flags = [
            ("drop", self.drop),
            (f"delay={self.delay_s:g}", self.delay_s > 0),
            ("duplicate", self.duplicate),
            ("out-of-order", self.out_of_order),
            ("early", self.early),
            ("corrupt", self.corrupt),
        ]
        return tuple(name for name, on in flags if on)

    def __bool__(self) -> bool:
        return bool(self.names)


NO_FAULTS = WebhookFaults()


def parse_faults(text: str | None) -> WebhookFaults:
    """Parse ``drop``, ``delay=5``, ``duplicate,early`` ...; ValueError naming the bad part and the choices."""
    if text is None or not text.strip():
        return NO_FAULTS
    flags: dict[str, Any] = {}
    for raw in text.split(","):
        part = raw.strip().lower()
        if part in ("none", ""):
            continue
        if part in ("drop", "duplicate", "early", "corrupt"):
            flags[part] = True
        elif part in ("out-of-order", "out_of_order", "outoforder"):
            flags["out_of_order"] = True
        elif (match := _DELAY.match(part)) is not None:
            seconds = float(match["seconds"])
            if not math.isfinite(seconds) or seconds > MAX_DELAY_S:
                raise ValueError(f"webhook fault {raw.strip()!r}: the delay must be 0..{MAX_DELAY_S:g} seconds")
            flags["delay_s"] = seconds
        else:
            raise ValueError(
                f"unknown webhook fault {raw.strip()!r}; use one or more of {', '.join(NAMES)} separated by commas"
            )
    return WebhookFaults(**flags)


def corrupt(body: bytes) -> bytes:
    """A Message body that breaks the ``webhooks`` schema in three ways a receiver must catch.

    ``progress`` becomes a string, ``status`` leaves the enum, and ``updatedAt`` disappears; the rest is kept
    so the receiver can still tell which job it was about.
    """
    message = orjson.loads(body)
    message["progress"] = f"{message.get('progress', 0)}%"
    message["status"] = str(message.get("status", "")).lower() + "?"
    message.pop("updatedAt", None)
    return orjson.dumps(message)
