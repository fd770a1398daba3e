"""Mutant: polls in a tight loop (no pause between polls). verify must report poll-rate."""

from __future__ import annotations

import sys

from _example import FluxClient, main


class TightLoop(FluxClient):
    def pause_before_poll(self) -> None:
        pass


if __name__ == "__main__":
    sys.exit(main(client_class=TightLoop))
