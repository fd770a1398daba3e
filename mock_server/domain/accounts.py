"""Account-level state beyond credits: the DIY plan's linked Discord tokens.

The documented example token is the only one a fresh mock has; toggling it is remembered until reset.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

DIY_PLANS = ("DIY", "DEDICATED")
# The docs' example (DOC-TOKEN), with its token value replaced by a placeholder.
_EXAMPLE: dict[str, Any] = {
    "id": 198,
    "token": "XXX",
    "channelId": "1090000000000000001",
    "serverId": "1090000000000000000",
    "isActive": True,
    "status": "FAST",
    "info": {
        "jobMode": "",
        "runningJobs": "None",
        "relaxedUsage": "0 images",
        "subscription": "Basic (Active monthly, renews next on <t:1709417882>)",
        "lifetimeUsage": "674 images",
        "queuedJobsFast": "0",
        "visibilityMode": "Public",
        "queuedJobsRelax": "0",
        "fastTimeRemaining": "199.00/200.0 minutes (99.50%)",
    },
    "concurrency": 2,
}


def is_diy(plan_type: str) -> bool:
    """Whether the plan may use the DIY-plan endpoints."""
    return plan_type.strip().upper() in DIY_PLANS


class DiscordTokens:
    """The linked Discord tokens of the (one) account, by id."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to the documented example token."""
        with self._lock:
            self._tokens = {_EXAMPLE["id"]: copy.deepcopy(_EXAMPLE)}

    def all(self) -> list[dict[str, Any]]:
        """Every token, by id."""
        with self._lock:
            return [copy.deepcopy(t) for _, t in sorted(self._tokens.items())]

    def get(self, token_id: int) -> dict[str, Any] | None:
        """One token, or None."""
        with self._lock:
            found = self._tokens.get(token_id)
            return copy.deepcopy(found) if found is not None else None

    def toggle(self, token_id: int, active: bool) -> dict[str, Any] | None:
        """Switch a token on or off; the updated token (the documented answer has no ``info``), or None."""
        with self._lock:
            found = self._tokens.get(token_id)
            if found is None:
                return None
            found["isActive"] = active
            return {k: copy.deepcopy(v) for k, v in found.items() if k != "info"}
