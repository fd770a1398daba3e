"""Outages said once: a lost Redis (a real redis-server stopped and started again) and a failing receiver host."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from redis_support import RedisServer

from mock_server import Settings
from mock_server.run.server import LiveServer
from mock_server.services.outages import Outage
from mock_server.services.webhooks.delivery import Dispatcher

KEY = "sk-test"
OUTAGE_S = 3.0  # traffic while Redis is away: creates every 50 ms and the webhook pump polling 4 times a second


class Lines(logging.Handler):
    """Every log record of flux-mock and uvicorn at warning level and above (uvicorn's do not propagate)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [self.format(record) for record in self.records]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def create(client: httpx.Client) -> int:
    return client.post("/api/v1/flux/imagine", json={"prompt": "a red fox"}).status_code


def test_a_lost_redis_is_one_line_when_it_goes_and_one_when_it_is_back(tmp_path: Path, lines: Lines) -> None:
    redis = RedisServer(tmp_path).start()
    try:
        with (
            LiveServer(settings=Settings(api_keys=(KEY,), store=redis.url)) as server,
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=5) as client,
        ):
            logging.getLogger("uvicorn.error").addHandler(lines)  # again: uvicorn configured its logging meanwhile
            assert create(client) == 200
            redis.stop()
            statuses: set[int] = set()
            deadline = time.monotonic() + OUTAGE_S
            while time.monotonic() < deadline:
                statuses.add(create(client))
                time.sleep(0.05)
            assert statuses == {503}
            redis.start()
            deadline = time.monotonic() + 10.0
            while create(client) != 200:
                assert time.monotonic() < deadline, "creates did not succeed again within 10 s of Redis returning"
                time.sleep(0.05)
            back = [line for line in lines.lines() if "answers again" in line]
            deadline = time.monotonic() + 5.0
            while not back and time.monotonic() < deadline:  # said by the next pump poll (0.25 s) or request
                time.sleep(0.05)
                back = [line for line in lines.lines() if "answers again" in line]
    finally:
        redis.stop()
    said = lines.lines()
    gone = [line for line in said if "is unreachable; answering 503, retrying" in line]
    assert len(gone) == 1, said
    assert redis.url in gone[0]
    assert len(back) == 1, said
    assert "failed meanwhile" in back[0]
    assert not [r for r in lines.records if r.exc_info], "a traceback was logged:\n" + "\n".join(said)
    assert len(said) <= 4, said


def test_an_outage_logs_its_tracebacks_only_at_debug_level(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("flux_mock.test_outage")
    outage = Outage(log, "X is unreachable; retrying", "X answers again")
    with caplog.at_level(logging.WARNING, logger=log.name):
        for _ in range(50):
            outage.failed(ConnectionError("refused"))
        outage.recovered()
        outage.recovered()
    assert caplog.records[0].getMessage() == "X is unreachable; retrying (ConnectionError: refused)"
    assert len(caplog.records) == 2
    assert caplog.records[1].getMessage().endswith("50 operations failed meanwhile")
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger=log.name):
        outage.failed(ConnectionError("refused"))
        outage.failed(ConnectionError("refused"))
    assert sum(1 for r in caplog.records if r.exc_info) == 2


def test_a_receiver_host_that_keeps_failing_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    dispatcher = Dispatcher.__new__(Dispatcher)
    dispatcher.failing = {}
    delivery = SimpleNamespace(url="http://127.0.0.1:9/hook")
    refused = SimpleNamespace(ok=False, error="ConnectError: connection refused", status=None)
    with caplog.at_level(logging.WARNING, logger="flux_mock.webhooks"):
        for _ in range(20):
            dispatcher._note_host(delivery, refused)  # type: ignore[arg-type]
        dispatcher._note_host(delivery, SimpleNamespace(ok=True))  # type: ignore[arg-type]
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 2, said
    assert said[0].startswith("webhooks to 127.0.0.1 fail; retrying as planned")
    assert said[1].startswith("webhooks to 127.0.0.1 are delivered again")
    assert said[1].endswith("20 attempts failed meanwhile")
