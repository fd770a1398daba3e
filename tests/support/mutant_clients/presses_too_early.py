"""Mutant: presses U1 on the grid as soon as it is created, without waiting for DONE. verify must report the 409
as a refused-request naming the message's state."""

from __future__ import annotations

import sys
from typing import Any

from _mj_example import MidjourneyClient, main


class PressesTooEarly(MidjourneyClient):
    def wait(self, message_id: str) -> dict[str, Any]:
        if not getattr(self, "pressed", False):  # the grid: assumed DONE at once
            self.pressed = True
            return {"messageId": message_id, "status": "DONE", "buttons": ["U1"]}
        return super().wait(message_id)


if __name__ == "__main__":
    sys.exit(main(client_class=PressesTooEarly))
