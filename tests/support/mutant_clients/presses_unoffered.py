"""Mutant: presses a button the grid does not list (Make Square belongs to an upscaled image). verify must report
the 409 as a refused-request naming the buttons offered."""

from __future__ import annotations

import sys
from typing import Any

from _mj_example import MidjourneyClient, main


class PressesUnoffered(MidjourneyClient):
    def choose_button(self, grid: dict[str, Any]) -> str:
        return "Make Square"


if __name__ == "__main__":
    sys.exit(main(client_class=PressesUnoffered))
