"""`--workers N`: the settings a worker process is given (the processes themselves: tests/fleet)."""

from __future__ import annotations

from mock_server import Settings
from mock_server.workers import settings_from_record, settings_record


def test_a_worker_gets_exactly_the_settings_of_its_parent() -> None:
    settings = Settings(
        seed=7, api_keys=("sk-a", "sk-b"), store="redis://127.0.0.1:6379/3", workers=2, webhook_allow_hosts=("x.test",)
    )
    assert settings_from_record(settings_record(settings)) == settings
