"""Mutant: retries a 5xx, a dropped connection or a garbled answer at once (it still honours Retry-After).

The default run (success, fail, timeout) never shows it; `verify --scenarios resilience` must report backoff.
"""

from __future__ import annotations

import sys

import httpx
from _example import FluxClient, main


class NoBackoff(FluxClient):
    def retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        if response is not None and "retry-after" in response.headers:
            return float(super().retry_delay(response, attempt))
        return 0.0


if __name__ == "__main__":
    sys.exit(main(client_class=NoBackoff))
