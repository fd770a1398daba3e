"""A small, well-behaved ImaginePro Flux client: the reference `flux-mock verify` holds clients to.

    IMAGINEPRO_API_KEY=sk-... python examples/client.py "a red fox in the snow" --out fox.png
    flux-mock verify -- python examples/client.py "a red fox in the snow"

What makes it well-behaved:
- it creates one job and polls it with a courtesy interval (2 s by default, like the official SDKs);
- it stops polling as soon as the job is DONE or FAIL, and gives up after a deadline of its own;
- it waits the Retry-After seconds after a 429/503, and backs off exponentially after a 5xx,
  a dropped connection or an unreadable answer;
- it downloads the image at `uri` and exits 0; it exits 1 when the job FAILs, 2 when it gives up,
  3 when the API refuses the request.

Environment (read once at start):
    IMAGINEPRO_BASE_URL         API root (default https://api.imaginepro.ai)
    IMAGINEPRO_API_KEY          Bearer key (required)
    FLUX_CLIENT_POLL_INTERVAL   seconds between two polls of the job (default 2)
    FLUX_CLIENT_MAX_WAIT        seconds before giving up on the job (default 45: under `flux-mock verify`'s
                                60 s per run, so a stalled job is given up on in time; raise it for real queues)
    FLUX_CLIENT_BACKOFF         first back-off after a failure, doubled each retry (default 1)
    FLUX_CLIENT_RETRIES         attempts per request before giving up (default 5)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

EXIT_DONE, EXIT_FAILED, EXIT_GAVE_UP, EXIT_REFUSED = 0, 1, 2, 3


class GaveUp(Exception):
    """Raised when retries or the deadline ran out."""


class Refused(Exception):
    """Raised when the API refused a request (a 4xx other than 404 and 429)."""


@dataclass
class Config:
    base_url: str
    api_key: str
    poll_interval: float = 2.0
    max_wait: float = 45.0
    backoff: float = 1.0
    retries: int = 5

    @classmethod
    def from_env(cls) -> Config:
        key = os.environ.get("IMAGINEPRO_API_KEY", "")
        if not key:
            raise SystemExit("Set IMAGINEPRO_API_KEY (flux-mock verify sets it for you).")
        env = os.environ.get
        return cls(
            base_url=env("IMAGINEPRO_BASE_URL", "https://api.imaginepro.ai").rstrip("/"),
            api_key=key,
            poll_interval=float(env("FLUX_CLIENT_POLL_INTERVAL", "2")),
            max_wait=float(env("FLUX_CLIENT_MAX_WAIT", "45")),
            backoff=float(env("FLUX_CLIENT_BACKOFF", "1")),
            retries=int(env("FLUX_CLIENT_RETRIES", "5")),
        )


class FluxClient:
    """Create a Flux job, wait for it, download the image. Small methods, so mutants can override one."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.http = httpx.Client(
            base_url=config.base_url, headers={"Authorization": f"Bearer {config.api_key}"}, timeout=30.0
        )

    # --- the steps -------------------------------------------------------------------------------------

    def payload(self, prompt: str) -> dict[str, Any]:
        """The imagine request body."""
        return {"prompt": prompt}

    def create(self, prompt: str) -> str:
        """POST the job; return its messageId."""
        created = self.request("POST", "/api/v1/flux/imagine", json=self.payload(prompt))
        return self.message_id_of(created)

    def message_id_of(self, created: dict[str, Any]) -> str:
        """The id to poll, from the create answer."""
        return str(created["messageId"])

    def is_terminal(self, message: dict[str, Any]) -> bool:
        """DONE and FAIL never change again."""
        return message.get("status") in ("DONE", "FAIL")

    def wait(self, message_id: str) -> dict[str, Any]:
        """Poll until the job is DONE or FAIL, at the courtesy interval, within the deadline."""
        deadline = time.monotonic() + self.config.max_wait
        while True:
            self.pause_before_poll()
            message = self.request("GET", f"/api/v1/message/fetch/{message_id}", not_found_ok=True)
            if message and self.is_terminal(message):
                return message
            progress = f"{message.get('status')} {message.get('progress')}%" if message else "not registered yet"
            print(f"  {message_id}: {progress}", file=sys.stderr)
            if time.monotonic() + self.config.poll_interval > deadline:
                raise GaveUp(f"job {message_id} did not finish within {self.config.max_wait:g} s")

    def pause_before_poll(self) -> None:
        time.sleep(self.config.poll_interval)

    def download(self, url: str) -> bytes:
        """Fetch the image (a plain GET: the CDN needs no key)."""
        response = httpx.get(url, timeout=30.0)
        response.raise_for_status()
        return response.content

    # --- one request, with the retry policy -----------------------------------------------------------

    def retry_delay(self, response: httpx.Response | None, attempt: int) -> float:
        """How long to wait before retrying: Retry-After if the answer has one, else exponential back-off."""
        if response is not None and "retry-after" in response.headers:
            try:
                return max(0.0, float(response.headers["retry-after"]))
            except ValueError:
                pass
        return float(self.config.backoff * 2**attempt)

    def request(self, method: str, path: str, *, not_found_ok: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Send one request and return its JSON; retry 429, 5xx, dropped connections and garbled answers."""
        reason = "no attempt allowed (FLUX_CLIENT_RETRIES is 0)"
        for attempt in range(self.config.retries):
            response: httpx.Response | None = None
            try:
                response = self.http.request(method, path, **kwargs)
                if response.status_code == 404 and not_found_ok:
                    return {}  # the job may not be registered yet: poll again at the normal interval
                if response.status_code < 400:
                    body = response.json()
                    if isinstance(body, dict):
                        return body
                    reason = "an answer that is not a JSON object"
                elif response.status_code == 429 or response.status_code >= 500:
                    reason = f"HTTP {response.status_code}"
                else:
                    raise Refused(f"{method} {path} was refused with {response.status_code}: {response.text[:300]}")
            except (httpx.TransportError, ValueError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            if attempt + 1 == self.config.retries:
                break  # no retry left: give up now rather than wait for nothing
            delay = self.retry_delay(response, attempt)
            print(f"  {method} {path}: {reason}; retrying in {delay:g} s", file=sys.stderr)
            time.sleep(delay)
        raise GaveUp(f"{method} {path} failed {self.config.retries} times (last: {reason})")


def main(argv: list[str] | None = None, client_class: type[FluxClient] = FluxClient) -> int:
    """Generate one image; the exit code says how it went."""
    parser = argparse.ArgumentParser(description="Generate one image with ImaginePro Flux.")
    parser.add_argument("prompt", nargs="?", default="a red fox in the snow")
    parser.add_argument("--out", type=Path, default=None, help="save the image here (default: download only)")
    args = parser.parse_args(argv)
    client = client_class(Config.from_env())
    try:
        message_id = client.create(args.prompt)
        print(f"created job {message_id}", file=sys.stderr)
        message = client.wait(message_id)
        if message.get("status") != "DONE":
            print(f"job {message_id} failed: {message.get('error', 'no error text')}", file=sys.stderr)
            return EXIT_FAILED
        url = str(message["uri"])
        image = client.download(url)
        if args.out is not None:
            args.out.write_bytes(image)
        print(f"{url} ({len(image)} bytes){f' saved to {args.out}' if args.out else ''}")
        return EXIT_DONE
    except GaveUp as exc:
        print(f"gave up: {exc}", file=sys.stderr)
        return EXIT_GAVE_UP
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except httpx.HTTPError as exc:  # the image download failed
        print(f"download failed: {exc}", file=sys.stderr)
        return EXIT_GAVE_UP


if __name__ == "__main__":
    sys.exit(main())
