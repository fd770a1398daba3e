"""A fuzzed receiver (any status, garbage Retry-After, hangs, transport errors, exceptions) never leaves a
delivery without a journal entry that ends it."""

from __future__ import annotations

import asyncio

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server import Settings, VirtualClock
from mock_server.domain.webhooks.journal import WebhookJournal
from mock_server.services.scheduler import Scheduler
from mock_server.services.webhooks.delivery import Delivery, Dispatcher

ENDING = {"delivered", "failed", "error", "abandoned"}
RETRY_AFTERS = st.one_of(
    st.none(),
    st.sampled_from(["Wed, 21 Oct 2015 07:28:00 +99999999999999", "-1", "nan", "inf", "1e999", "7", "Tue, 99 Foo"]),
    st.text(max_size=30),
)
Behaviour = tuple[str, object, object]
BEHAVIOURS: st.SearchStrategy[Behaviour] = st.one_of(
    st.tuples(st.just("answer"), st.integers(100, 599), RETRY_AFTERS),
    st.tuples(st.just("garbage"), st.binary(max_size=64), st.none()),
    st.tuples(st.just("hang"), st.none(), st.none()),
    st.tuples(st.just("network"), st.sampled_from(["connect", "read", "protocol"]), st.none()),
    st.tuples(
        st.just("raise"), st.sampled_from([RuntimeError, KeyError, OverflowError, ValueError, TypeError]), st.none()
    ),
)


def _transport(script: list[Behaviour]) -> httpx.MockTransport:
    async def handle(request: httpx.Request) -> httpx.Response:
        kind, a, b = script.pop(0) if script else ("answer", 200, None)
        if kind == "hang":
            await asyncio.sleep(5)  # cut by the attempt timeout
        if kind == "network":
            errors = {"connect": httpx.ConnectError, "read": httpx.ReadError, "protocol": httpx.RemoteProtocolError}
            raise errors[str(a)]("fuzzed", request=request)
        if kind == "raise":
            raise a("fuzzed bug")  # type: ignore[operator]
        if kind == "garbage":
            return httpx.Response(200, content=a, headers={"Content-Type": "text/html"})  # type: ignore[arg-type]
        headers = {} if b is None else {"Retry-After": str(b)}
        try:
            return httpx.Response(int(a), headers=headers, content=b"ok")  # type: ignore[call-overload]
        except (UnicodeEncodeError, ValueError):
            return httpx.Response(int(a), content=b"ok")  # type: ignore[call-overload]

    return httpx.MockTransport(handle)


async def _deliver(script: list[Behaviour], retries: int) -> list[str]:
    clock = VirtualClock(start=1_750_000_000.0)
    config = Settings(webhook_retries=retries, webhook_timeout_s=0.02, webhook_allow_hosts=("*",), seed=3)
    scheduler = Scheduler(clock)
    scheduler.start()
    journal = WebhookJournal(100)
    dispatcher = Dispatcher(config, scheduler, journal)
    dispatcher._client = httpx.AsyncClient(transport=_transport(script))
    dispatcher.submit(Delivery("d-1", "m-1", "final", "http://hooks.test/in", b'{"status":"DONE"}'))
    for _ in range(200):  # bounded: every wait is on the mock clock, which this loop moves
        if any(e.outcome in ENDING for e in journal.entries()):
            break
        await asyncio.sleep(0.005)
        clock.advance(3601)
    await dispatcher.aclose(0.1)
    await scheduler.aclose()
    return [e.outcome for e in journal.entries()]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(BEHAVIOURS, min_size=1, max_size=5), st.integers(1, 5))
def test_a_fuzzed_receiver_never_leaves_a_delivery_unjournalled(behaviours: list[Behaviour], retries: int) -> None:
    outcomes = asyncio.run(_deliver(list(behaviours), retries))
    assert outcomes, "the delivery left no journal entry"
    assert outcomes[-1] in ENDING, outcomes
    assert all(o == "retrying" for o in outcomes[:-1]), outcomes
    assert len(outcomes) <= retries
