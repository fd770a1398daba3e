"""Mutant: asks for n=5 images (the contract allows 1..4). verify must report request-schema."""

from __future__ import annotations

import sys
from typing import Any

from _example import FluxClient, main


class SendsN5(FluxClient):
    def payload(self, prompt: str) -> dict[str, Any]:
        return {"prompt": prompt, "n": 5}


if __name__ == "__main__":
    sys.exit(main(client_class=SendsN5))
