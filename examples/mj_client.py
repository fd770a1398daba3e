"""A small, well-behaved ImaginePro Midjourney client: a grid, then a button pressed on it (or a video, then an
extend of one of its results). The reference `flux-mock verify` holds follow-up flows to.

    IMAGINEPRO_API_KEY=sk-... python examples/mj_client.py "a red fox in the snow"
    flux-mock verify --scenarios resilience -- python examples/mj_client.py "a red fox in the snow"
    flux-mock verify --scenarios resilience -- python examples/mj_client.py --video

What makes it well-behaved, beyond `client.py` (whose retry policy and polling it reuses):
- it presses a button only once the message is DONE, and only one the message lists in `buttons` (U1 when offered);
- it extends only an index the video lists in `results`;
- it follows the follow-up job to its end like the first one: a FAIL there is a failure (exit 1), a refusal that
  retries cannot get past is a give-up (exit 2), exactly as for the first job.

Environment: as `client.py` (IMAGINEPRO_BASE_URL, IMAGINEPRO_API_KEY, FLUX_CLIENT_*).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx
from client import EXIT_DONE, EXIT_FAILED, EXIT_GAVE_UP, EXIT_REFUSED, Config, FluxClient, GaveUp, Refused

FRAMES = ("https://example.com/start.png", "https://example.com/end.png")


class MidjourneyClient(FluxClient):
    """Imagine a grid and press one of its buttons; or make a video and extend one of its results."""

    def imagine(self, prompt: str) -> str:
        """POST the grid job; return its messageId."""
        return self.message_id_of(self.request("POST", "/api/v1/nova/imagine", json={"prompt": prompt}))

    def choose_button(self, grid: dict[str, Any]) -> str:
        """A button the DONE grid lists: U1 when offered."""
        offered = [b for b in grid.get("buttons") or [] if isinstance(b, str)]
        if not offered:
            raise Refused(f"message {grid.get('messageId')} offers no button")
        return "U1" if "U1" in offered else offered[0]

    def press(self, grid: dict[str, Any], button: str) -> str:
        """POST the button on the DONE grid; return the new job's messageId."""
        body = {"messageId": grid["messageId"], "button": button}
        return self.message_id_of(self.request("POST", "/api/v1/nova/button", json=body))

    def generate_video(self, prompt: str) -> str:
        body = {"prompt": prompt, "startFrameUrl": FRAMES[0], "endFrameUrl": FRAMES[1]}
        return self.message_id_of(self.request("POST", "/api/v1/video/mj/generate", json=body))

    def choose_index(self, video: dict[str, Any]) -> int:
        """An index the DONE video lists in `results`: the first."""
        results = [r for r in video.get("results") or [] if isinstance(r, dict)]
        if not results:
            raise Refused(f"video {video.get('messageId')} lists no results")
        return int(results[0].get("index", 0))

    def extend(self, video: dict[str, Any], index: int) -> str:
        body = {"messageId": video["messageId"], "index": index}
        return self.message_id_of(self.request("POST", "/api/v1/video/mj/extend", json=body))

    def first_then_follow_up(self, prompt: str, video: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The first job's final message, and the follow-up's (None when the first did not end DONE)."""
        first_id = self.generate_video(prompt) if video else self.imagine(prompt)
        print(f"created job {first_id}", file=sys.stderr)
        first = self.wait(first_id)
        if first.get("status") != "DONE":
            return first, None
        if video:
            follow_id = self.extend(first, self.choose_index(first))
        else:
            follow_id = self.press(first, self.choose_button(first))
        print(f"follow-up job {follow_id}", file=sys.stderr)
        return first, self.wait(follow_id)

    def succeeded(self, message: dict[str, Any]) -> bool:
        """Whether a final message is a success."""
        return message.get("status") == "DONE"


def main(argv: list[str] | None = None, client_class: type[MidjourneyClient] = MidjourneyClient) -> int:
    """A grid and a button (or a video and an extend); the exit code says how it went (as `client.py`)."""
    parser = argparse.ArgumentParser(description="Imagine a Midjourney grid and press a button on it.")
    parser.add_argument("prompt", nargs="?", default="a red fox in the snow")
    parser.add_argument("--video", action="store_true", help="make a video and extend one of its results instead")
    args = parser.parse_args(argv)
    client = client_class(Config.from_env())
    try:
        first, follow_up = client.first_then_follow_up(args.prompt, args.video)
        final = follow_up if follow_up is not None else first
        if not client.succeeded(final):
            print(f"job {final.get('messageId')} failed: {final.get('error', 'no error text')}", file=sys.stderr)
            return EXIT_FAILED
        url = final.get("videoUrl") or final.get("uri")
        print(f"{url}")
        return EXIT_DONE
    except GaveUp as exc:
        print(f"gave up: {exc}", file=sys.stderr)
        return EXIT_GAVE_UP
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except httpx.HTTPError as exc:
        print(f"request failed: {exc}", file=sys.stderr)
        return EXIT_GAVE_UP


if __name__ == "__main__":
    sys.exit(main())
