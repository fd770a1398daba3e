"""The retry schedule of webhook deliveries: pure functions, no clock reads beyond an optional `now`.

- The wait before attempt n+1 is ``Retry-After`` when the receiver's answer carried one (delta-seconds or an
  HTTP date), honoured exactly and clamped to 0..1 h so a receiver cannot park a delivery forever;
- otherwise ``min(backoff_max, backoff * 2**(n-1))`` scaled by a jitter factor in [0.5, 1.0] drawn from an RNG
  seeded by (seed, delivery id, attempt), so a seeded run replays the same schedule.
"""

from __future__ import annotations

import email.utils
import math
import random
import time

MAX_RETRY_AFTER_S = 3600.0  # a receiver cannot park a delivery for longer than this


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), clamped to 0..1 h; None if absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
            seconds = moment.timestamp() - (time.time() if now is None else now)
        except (TypeError, ValueError, OverflowError, OSError, IndexError):
            # An unreadable date (e.g. an offset of +99999999999999 overflows) is no Retry-After at all.
            return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


def backoff_delay(attempt: int, *, base_s: float, max_s: float, seed: int, delivery_id: str) -> float:
    """Wait after failed attempt `attempt` (1-based): capped exponential backoff with seeded jitter in [50%, 100%]."""
    ceiling = min(max_s, base_s * 2.0 ** (attempt - 1))
    jitter: float = random.Random(f"{seed}:{delivery_id}:{attempt}").uniform(0.5, 1.0)
    return ceiling * jitter
