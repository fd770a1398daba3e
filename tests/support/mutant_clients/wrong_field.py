"""Mutant: reads the job id from `id` instead of `messageId`, so it never polls its job.

verify must report job-never-polled.
"""

from __future__ import annotations

import sys
from typing import Any

from _example import FluxClient, main


class WrongField(FluxClient):
    def message_id_of(self, created: dict[str, Any]) -> str:
        return str(created.get("id"))


if __name__ == "__main__":
    sys.exit(main(client_class=WrongField))
