"""Helpers shared by the webhook tests (importable because pytest puts this directory on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from mock_server import VirtualClock
from mock_server.run.server import LiveServer
from mock_server.services.container import Services

API_KEY = "sk-test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a valid Standard Webhooks secret (24 bytes)
OTHER_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


@dataclass
class Live:
    """A running mock: its URL, an authenticated client, its services and its clock."""

    server: LiveServer
    client: httpx.Client
    clock: VirtualClock

    @property
    def svc(self) -> Services:
        services: Services = self.server.app.state.services  # type: ignore[attr-defined]
        return services

    def create(self, body: dict[str, Any], *, fault: str | None = None, path: str = "/api/v1/flux/imagine") -> str:
        """POST a job; return its messageId (asserting 200)."""
        headers = {"X-Mock-Webhook": fault} if fault is not None else {}
        response = self.client.post(path, json=body, headers=headers)
        assert response.status_code == 200, response.text
        message_id: str = response.json()["messageId"]
        return message_id

    def get(self, message_id: str) -> httpx.Response:
        """GET progress for a job."""
        return self.client.get(f"/api/v1/message/fetch/{message_id}")


Serve = Callable[..., Live]


Serve = Callable[..., Live]


def until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait for real-socket state (not for a job: jobs move with the virtual clock), bounded."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout} s")
        time.sleep(0.005)
