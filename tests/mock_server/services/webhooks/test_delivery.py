"""Tests for mock_server.services.webhooks.delivery: retries, backoff, Retry-After, timeouts, isolation, shutdown.

Every test runs the mock on a loopback socket with a VirtualClock and a real receiver; backoff waits are
skipped with `clock.advance()`, never slept through.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from webhook_support import Live, Serve, until

from mock_server import WebhookReceiver, WebhookReply
from mock_server.domain.webhooks.retry import MAX_RETRY_AFTER_S, backoff_delay, parse_retry_after


def done_job(live: Live, url: str, **extra: object) -> str:
    """Create a 3 s job with a webhook to `url` and move the clock to its end."""
    message_id = live.create({"prompt": "a red fox", "webhookOverride": url, **extra})
    live.clock.advance(3)
    return message_id


# --- pure helpers ------------------------------------------------------------------------------------------------


def test_parse_retry_after_seconds_dates_and_garbage() -> None:
    now = 1_750_000_000.0
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("999999") == MAX_RETRY_AFTER_S
    date = format_datetime(datetime.fromtimestamp(now + 120, UTC), usegmt=True)
    assert parse_retry_after(date, now=now) == pytest.approx(120)
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("nan") is None


def test_backoff_is_exponential_capped_jittered_and_seeded() -> None:
    delays = [backoff_delay(n, base_s=1, max_s=60, seed=0, delivery_id="d") for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        ceiling = min(60, 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 60
    assert delays == [backoff_delay(n, base_s=1, max_s=60, seed=0, delivery_id="d") for n in range(1, 10)]
    other = [backoff_delay(n, base_s=1, max_s=60, seed=1, delivery_id="d") for n in range(1, 10)]
    assert other != delays  # the seed changes the jitter


# --- retries -----------------------------------------------------------------------------------------------------


def test_500_500_200_is_delivered_once_with_three_attempts_journalled(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    receiver.reply(500, 500)
    message_id = done_job(live, receiver.url)
    journal = live.svc.webhooks.journal
    for attempt in (1, 2):
        entry = journal.wait_for(attempt, message_id=message_id)[-1]
        assert (entry.attempt, entry.status, entry.outcome) == (attempt, 500, "retrying")
        assert entry.retry_in_s is not None
        assert 0.5 * 2 ** (attempt - 1) <= entry.retry_in_s <= 2 ** (attempt - 1)
        live.clock.advance(entry.retry_in_s)
    arrivals = receiver.wait_for(3)
    attempts = journal.wait_for(3, message_id=message_id)
    assert [(a.attempt, a.status, a.outcome) for a in attempts] == [
        (1, 500, "retrying"),
        (2, 500, "retrying"),
        (3, 200, "delivered"),
    ]
    assert [a.status for a in arrivals] == [500, 500, 200]  # the receiver saw three requests, one accepted
    assert len({a.delivery_id for a in arrivals}) == 1  # stable delivery id across attempts
    assert [a.attempt for a in arrivals] == [1, 2, 3]
    assert len({a.body for a in arrivals}) == 1
    assert all(a.headers["content-type"] == "application/json" for a in arrivals)
    assert all(a.headers["x-mock-event"] == "final" for a in arrivals)
    assert all(a.latency_ms > 0 for a in attempts)


def test_retry_after_is_honoured_exactly(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    receiver.reply(WebhookReply(429, headers={"Retry-After": "7"}))
    message_id = done_job(live, receiver.url)
    [first] = live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    assert (first.status, first.outcome, first.retry_in_s) == (429, "retrying", 7.0)  # no jitter on Retry-After
    until(lambda: live.svc.scheduler.next_due() is not None, what="retry timer")
    assert live.svc.scheduler.next_due() == pytest.approx(live.clock.now() + 7.0)
    live.clock.advance(6.9)
    assert len(receiver.arrivals) == 1
    live.clock.advance(0.1)
    assert [a.status for a in receiver.wait_for(2)] == [429, 200]


def test_a_4xx_ends_the_delivery_as_failed_without_retry(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve()
    receiver.reply(410)
    message_id = done_job(live, receiver.url)
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    assert (entry.status, entry.outcome, entry.retry_in_s) == (410, "failed", None)
    live.clock.advance(3600)
    assert live.svc.scheduler.next_due() is None
    assert len(receiver.arrivals) == 1


def test_network_errors_are_retried_up_to_the_attempt_limit(serve: Serve, closed_port_url: str) -> None:
    live = serve(webhook_retries=3)
    message_id = done_job(live, closed_port_url)
    journal = live.svc.webhooks.journal
    for n in (1, 2):
        entry = journal.wait_for(n, message_id=message_id)[-1]
        assert entry.outcome == "retrying"
        assert entry.status is None
        assert entry.error is not None
        assert "Connect" in entry.error
        live.clock.advance(entry.retry_in_s or 0)
    last = journal.wait_for(3, message_id=message_id)[-1]
    assert (last.attempt, last.outcome) == (3, "failed")
    assert len(journal.entries(message_id=message_id)) == 3


def test_a_receiver_that_never_answers_times_out_and_is_retried(serve: Serve, blackhole: str) -> None:
    live = serve(webhook_timeout_s=0.3)
    message_id = done_job(live, blackhole)
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=message_id, timeout=5)
    assert entry.outcome == "retrying"
    assert entry.error is not None
    assert entry.error.startswith("timeout")
    assert 250 <= entry.latency_ms < 3000


# --- isolation ---


def post_latencies(live: Live, count: int) -> list[float]:
    """Milliseconds per POST imagine (no webhook), measured over the socket."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        response = live.client.post("/api/v1/flux/imagine", json={"prompt": "a red fox"})
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return latencies


def test_dead_receiver_slows_neither_the_api_nor_other_receivers(
    serve: Serve, blackhole: str, receiver: WebhookReceiver
) -> None:
    """50 deliveries hang on a dead receiver; POST imagine latency and a healthy receiver are unaffected.

    The bound is generous (p95 < 250 ms on a shared 2-core box; a POST typically takes a few ms) because the
    failure this guards against is blocking, which would cost the full 30 s attempt timeout, not milliseconds.
    """
    live = serve(job_seconds=0, webhook_concurrency=50, webhook_timeout_s=30, webhook_grace_s=0.2)
    baseline = post_latencies(live, 50)
    for _ in range(50):
        live.create({"prompt": "hang", "webhookOverride": blackhole})
    until(lambda: live.svc.webhooks.dispatcher.in_flight == 50, what="50 hanging deliveries")

    loaded = post_latencies(live, 50)
    p95 = statistics.quantiles(loaded, n=20)[-1]
    idle = f"{statistics.median(baseline):.2f}/{statistics.quantiles(baseline, n=20)[-1]:.2f}"
    print(
        f"\nPOST imagine p50/p95: idle {idle} ms, while 50 webhooks hang {statistics.median(loaded):.2f}/{p95:.2f} ms"
    )
    assert p95 < 250

    started = time.perf_counter()
    healthy = live.create({"prompt": "healthy", "webhookOverride": receiver.url})
    receiver.wait_for(1, timeout=10)
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=healthy)
    assert entry.outcome == "delivered"
    assert time.perf_counter() - started < 10  # not queued behind the dead receiver's 30 s timeouts
    assert live.svc.webhooks.dispatcher.in_flight == 50  # the dead ones are still hanging


# --- shutdown ----------------------------------------------------------------------------------------------------


def test_shutdown_journals_hanging_deliveries_as_abandoned(serve: Serve, blackhole: str) -> None:
    live = serve(job_seconds=0, webhook_timeout_s=30, webhook_grace_s=0.2)
    message_id = live.create({"prompt": "x", "webhookOverride": blackhole})
    until(lambda: live.svc.webhooks.dispatcher.in_flight == 1, what="hanging delivery")
    started = time.monotonic()
    live.server.stop()
    assert time.monotonic() - started < 5  # the grace period, not the 30 s attempt timeout
    [entry] = live.svc.webhooks.journal.entries(message_id=message_id)
    assert entry.outcome == "abandoned"
    assert entry.error is not None
    assert "grace" in entry.error


def test_shutdown_gives_a_delivery_in_backoff_one_last_attempt(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(webhook_grace_s=2)
    receiver.reply(500)
    message_id = done_job(live, receiver.url)
    live.svc.webhooks.journal.wait_for(1, message_id=message_id)  # first attempt failed; next one is 1 s away
    live.server.stop()  # no clock advance: the shutdown itself triggers the attempt
    outcomes = [(e.attempt, e.outcome) for e in live.svc.webhooks.journal.entries(message_id=message_id)]
    assert outcomes == [(1, "retrying"), (2, "delivered")]


def test_shutdown_abandons_a_last_attempt_that_fails_again(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(webhook_grace_s=2)
    receiver.reply(500, 500)
    message_id = done_job(live, receiver.url)
    live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    live.server.stop()
    outcomes = [(e.attempt, e.outcome) for e in live.svc.webhooks.journal.entries(message_id=message_id)]
    assert outcomes == [(1, "retrying"), (2, "abandoned")]


# --- dry run -----------------------------------------------------------------------------------------------------


def test_record_transport_accepts_any_host_and_sends_nothing(serve: Serve, receiver: WebhookReceiver) -> None:
    live = serve(webhook_allow_hosts=("*",), webhook_transport="record")
    far = live.create({"prompt": "x", "webhookOverride": "http://example.com/hook"})
    near = live.create({"prompt": "y", "webhookOverride": receiver.url})
    live.clock.advance(3)
    journal = live.svc.webhooks.journal
    [far_entry] = journal.wait_for(1, message_id=far)
    [near_entry] = journal.wait_for(1, message_id=near)
    for entry in (far_entry, near_entry):
        assert (entry.outcome, entry.status, entry.attempt) == ("recorded", None, 1)
        assert entry.headers["X-Mock-Attempt"] == "1"
    assert far_entry.url == "http://example.com/hook"
    assert receiver.arrivals == []  # recorded means not sent, even to an allowed host


def test_a_full_queue_journals_new_deliveries_as_abandoned(
    serve: Serve, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mock_server.services.webhooks.delivery.MAX_PENDING", 0)
    live = serve()
    message_id = done_job(live, receiver.url)
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    assert (entry.outcome, entry.attempt) == ("abandoned", 0)
    assert entry.error is not None
    assert "queued" in entry.error
    assert receiver.arrivals == []


# --- nothing is lost: hostile receivers and failures inside the mock ---------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 21 Oct 2015 07:28:00 +99999999999999",
        "Mon, 01 Jan 99999999 00:00:00 GMT",
        "Fri, 31 Dec 9999 23:59:60 +0000",
    ],
)
def test_unreadable_retry_after_dates_count_as_absent(value: str) -> None:
    # email.utils raised OverflowError for the first; the delivery task died and the journal held nothing.
    assert parse_retry_after(value, now=1_750_000_000.0) is None


def test_a_200_with_an_overflowing_retry_after_is_delivered_and_journalled(
    serve: Serve, receiver: WebhookReceiver
) -> None:
    live = serve()
    receiver.reply(WebhookReply(200, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 +99999999999999"}))
    message_id = done_job(live, receiver.url)
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=message_id)
    assert entry.outcome == "delivered"


class Boom(Exception):
    pass


@pytest.mark.parametrize("error", [Boom("transport bug"), RuntimeError("x"), KeyError("k"), OverflowError("big")])
def test_any_exception_inside_a_delivery_is_journalled_as_error(
    serve: Serve, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    live = serve()
    dispatcher = live.svc.webhooks.dispatcher

    async def explode(*args: object, **kwargs: object) -> object:
        raise error

    monkeypatch.setattr(dispatcher, "_post", explode)
    first = done_job(live, receiver.url)
    [entry] = live.svc.webhooks.journal.wait_for(1, message_id=first)
    assert entry.outcome == "error"
    assert type(error).__name__ in (entry.error or "")
    monkeypatch.undo()  # the dispatcher goes on with the next job
    second = done_job(live, receiver.url)
    assert live.svc.webhooks.journal.wait_for(1, message_id=second)[-1].outcome == "delivered"


def test_shutdown_lists_and_spools_abandoned_deliveries_and_unfinished_jobs(
    serve: Serve, blackhole: str, tmp_path: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    import orjson

    spool = tmp_path / "spool.jsonl"  # type: ignore[operator]
    live = serve(job_seconds=0, webhook_timeout_s=30, webhook_grace_s=0.2, webhook_spool=str(spool))
    hanging = live.create({"prompt": "x", "webhookOverride": blackhole})
    until(lambda: live.svc.webhooks.dispatcher.in_flight == 1, what="hanging delivery")
    unfinished = live.create({"prompt": "slow [mock:slow:600]", "webhookOverride": blackhole, "timeout": 900})
    with caplog.at_level("WARNING", logger="flux_mock.webhooks"):
        live.server.stop()
    records = [orjson.loads(line) for line in spool.read_bytes().splitlines()]
    assert [(r["type"], r["messageId"]) for r in records] == [("delivery", hanging), ("job", unfinished)]
    assert records[0]["payload"].startswith("{")
    assert records[1]["dueAt"] > live.clock.now()
    [said] = [r.getMessage() for r in caplog.records if "At shutdown" in r.getMessage()]
    assert "1 webhook delivery(ies) were abandoned and 1 unfinished job(s)" in said
    assert hanging in said
    assert unfinished in said
    assert str(spool) in said
