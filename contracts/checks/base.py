"""What every check module shares: the Message type, the poll operations' labels, timestamps and `_fail`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from contracts.core.failures import ContractFailure

Message = Mapping[str, Any]

FETCH = "GET /api/v1/message/fetch/{messageId}"
FETCH_LEGACY = "GET /api/v1/midjourney/message/{messageId}"
_LEAP_SECOND = re.compile(r"(T\d\d:\d\d:)60")


def parse_timestamp(value: Any) -> datetime | None:
    """Parse an ISO 8601 / RFC 3339 timestamp to an aware datetime; None if it does not parse.

    A leap second (``:60``) is read as ``:59``; a timestamp without an offset is read as UTC.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(_LEAP_SECOND.sub(r"\g<1>59", value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def fail(check: str, message: str, body: Message | None = None, **extra: Any) -> ContractFailure:
    message_id = body.get("messageId") if isinstance(body, Mapping) else None
    extra.setdefault("operation", FETCH)
    return ContractFailure(check, message, message_id=message_id if isinstance(message_id, str) else None, **extra)
