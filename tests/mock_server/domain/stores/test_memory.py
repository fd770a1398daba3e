"""MemoryStore: the local replica is the whole state; its publishing calls change nothing."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from mock_server.contract.problems import HttpError
from mock_server.domain.jobs import Timing
from mock_server.domain.scenarios.armed import make_rule
from mock_server.domain.stores.memory import MemoryStore

pytestmark = pytest.mark.anyio


async def test_the_memory_store_answers_from_the_local_objects(app: Starlette) -> None:
    svc = app.state.services
    store = svc.store
    assert isinstance(store, MemoryStore)
    assert not store.shared
    await store.start()
    job = await store.submit("sk-test", Timing(3), {"kind": "imagine", "timeout": 900})
    assert await store.find(job.message_id) is svc.jobs.get(job.message_id)
    assert (await store.page(0, 10)).jobs == [job]
    assert await store.take(make_rule(1, "fail", count=1))
    assert await store.hit("sk-test", "general") is None
    assert await store.hit("sk-test", "general") == 3
    svc.credits.set("sk-test", 5)
    with pytest.raises(HttpError):
        await store.charge("sk-test", 6)
    assert await store.balances() == {"sk-test": 5}
    for publish in (store.clock_changed, store.rules_changed, store.reset):
        await publish()
    await store.job_changed(job)
    await store.credits_changed("sk-test")
    assert await store.counts() == {"jobs": 1, "requests": 0, "webhooks": 0}
    assert await store.requests() == []
    assert await store.webhook_attempts() == []
    await store.aclose()
