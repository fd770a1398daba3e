"""Mutant: treats only DONE as final, so it keeps polling a FAILed job. verify must report poll-after-terminal."""

from __future__ import annotations

import sys
from typing import Any

from _example import FluxClient, main


class IgnoresFail(FluxClient):
    def is_terminal(self, message: dict[str, Any]) -> bool:
        return message.get("status") == "DONE"


if __name__ == "__main__":
    sys.exit(main(client_class=IgnoresFail))
