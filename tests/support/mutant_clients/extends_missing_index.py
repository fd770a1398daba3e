"""Mutant (video): extends result index 4 of a video that lists results 0-3. verify must report the 409 as a
refused-request naming the indexes the video has. Run with --video."""

from __future__ import annotations

import sys
from typing import Any

from _mj_example import MidjourneyClient, main


class ExtendsMissingIndex(MidjourneyClient):
    def choose_index(self, video: dict[str, Any]) -> int:
        return len(video.get("results") or [])


if __name__ == "__main__":
    sys.exit(main(client_class=ExtendsMissingIndex))
