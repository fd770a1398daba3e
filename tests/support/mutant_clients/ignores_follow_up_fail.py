"""Mutant: checks the first job's status but not the follow-up's: an upscale (button) that FAILs is reported as a
success and the client exits 0. verify's follow-up-fail scenario must report the exit code."""

from __future__ import annotations

import sys
from typing import Any

from _mj_example import MidjourneyClient, main


class IgnoresFollowUpFail(MidjourneyClient):
    def succeeded(self, message: dict[str, Any]) -> bool:
        return message.get("status") in ("DONE", "FAIL")


if __name__ == "__main__":
    sys.exit(main(client_class=IgnoresFollowUpFail))
