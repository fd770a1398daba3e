"""Is the server a flux-mock that accepts any key? Then checks that need a wrong key refused are skipped.

``flux-mock serve`` without ``--api-key`` accepts any non-empty Bearer key on purpose (a fresh mock works
with whatever key a client has). Against such a server a check that sends a *wrong* key and expects 401
cannot pass, and failing it would declare a faithful mock broken. ``GET /__mock/health`` says so in
``auth.anyKey``; when it does, those checks are reported as skipped with the setting that enables them.
A request *without* credentials must still get 401 in that mode, so those checks keep running.

Any other answer (no such endpoint, the real API, another shape) means: behave as for any server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from mock_server import ADMIN_PREFIX

HEALTH_PATH = f"{ADMIN_PREFIX}/health"
# What a user types to make the skipped checks meaningful (the mock's own `auth.setting` is quoted after it).
ENABLE = "flux-mock serve --api-key sk-test"
WRONG_KEY = "sk-flux-mock-check-wrong-key"


@dataclass(frozen=True, slots=True)
class AnyKeyMode:
    """The server accepts any non-empty key; `setting` is how the mock says real keys are turned on."""

    setting: str = "--api-key KEY (env FLUX_MOCK_API_KEYS)"

    @property
    def reason(self) -> str:
        """Why a wrong-key check is skipped, and how to run it."""
        return (
            f"skipped: the server is a flux-mock that accepts any key (GET {HEALTH_PATH}: auth.anyKey is true), "
            f"so a wrong key cannot get 401; start it with `{ENABLE}` (setting {self.setting}) and check with "
            "--token sk-test to run this check"
        )


def any_key_mode(health: Any) -> AnyKeyMode | None:
    """`AnyKeyMode` when a ``/__mock/health`` JSON body says ``auth.anyKey: true``; None for anything else."""
    auth = health.get("auth") if isinstance(health, dict) else None
    if not isinstance(auth, dict) or auth.get("anyKey") is not True:
        return None
    setting = auth.get("setting")
    return AnyKeyMode(setting) if isinstance(setting, str) and setting else AnyKeyMode()


async def detect(client: httpx.AsyncClient, base_url: str) -> AnyKeyMode | None:
    """Ask the server's ``/__mock/health``; None when it is absent, refuses, or answers another shape."""
    try:
        response = await client.get(base_url.rstrip("/") + HEALTH_PATH)
        body = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    return any_key_mode(body)
