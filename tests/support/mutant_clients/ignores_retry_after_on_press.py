"""Mutant: a button press answered 429 is retried after its own short back-off, not the Retry-After the answer
carries. verify's follow-up-reject:429 scenario must report retry-after."""

from __future__ import annotations

import sys

import httpx
from _mj_example import MidjourneyClient, main


class IgnoresRetryAfterOnPress(MidjourneyClient):
    def retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        if response is not None and response.request.url.path.endswith("/button"):
            return float(self.config.backoff * 2**attempt)
        return super().retry_delay(response, attempt)


if __name__ == "__main__":
    sys.exit(main(client_class=IgnoresRetryAfterOnPress))
