"""Mutant: retries a 429/503 after its own short delay instead of Retry-After. verify must report retry-after."""

from __future__ import annotations

import sys

import httpx
from _example import FluxClient, main


class IgnoresRetryAfter(FluxClient):
    def retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        return 0.0


if __name__ == "__main__":
    sys.exit(main(client_class=IgnoresRetryAfter))
