"""The fleet: every worker and replica on one Redis database, told of each change and answering when applied.

A change (the clock moved, a job was forced, rules armed, a reset, "flush your journal") is published on one
channel. Every worker, the publisher included, applies it and acknowledges on a list named after the change;
`publish` returns once as many workers acknowledged as the channel reached, so an admin call that returns has
been seen by the whole fleet (or it says, on the console, which part did not answer in time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mock_server.services.outages import Outage
from mock_server.services.tasks import stop_task

log = logging.getLogger("flux_mock.fleet")

Apply = Callable[[dict[str, Any]], Awaitable[None]]
ACK_WAIT_S = 5.0  # longest an admin change waits for the fleet
RESUBSCRIBE_S = 0.5  # between attempts to follow the channel again while Redis is away


class Fleet:
    """Publish changes to every worker on the database and apply theirs here."""

    def __init__(self, client: aioredis.Redis, prefix: str, worker: str, apply: Apply, outage: Outage) -> None:
        self.client = client
        self.outage = outage
        self.channel = f"{prefix}changes"
        self.ack_prefix = f"{prefix}ack:"
        self.worker = worker
        self.apply = apply
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Subscribe; changes published from now on reach this worker."""
        self._pubsub = self.client.pubsub()
        await self._pubsub.subscribe(self.channel)
        self._task = asyncio.get_running_loop().create_task(self._listen(), name="flux-mock-fleet")

    async def aclose(self) -> None:
        """Unsubscribe."""
        task, self._task = self._task, None
        await stop_task(task)
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()

    async def publish(self, kind: str, **data: Any) -> int:
        """Tell every worker of a change and wait until each applied it; returns how many did."""
        change = str(uuid.uuid4())
        message = orjson.dumps({"id": change, "origin": self.worker, "kind": kind, **data})
        reached = int(await self.client.publish(self.channel, message))
        return await self.acknowledged(kind, change, reached)

    async def acknowledged(self, kind: str, change: str, reached: int) -> int:
        """Wait until `reached` workers acknowledged change `change` (published with that id); how many did."""
        ack_key = self.ack_prefix + change
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ACK_WAIT_S
        acked = 0
        while acked < reached:
            left = deadline - loop.time()
            if left <= 0 or await self.client.blpop([ack_key], timeout=max(0.01, left)) is None:
                log.warning(
                    "%s change: %d of %d workers acknowledged within %g s; the others may answer with the old state",
                    kind,
                    acked,
                    reached,
                    ACK_WAIT_S,
                )
                break
            acked += 1
        return acked

    async def _listen(self) -> None:
        """Follow the channel; when Redis goes, subscribe again once it is back (the outage is said once)."""
        lost = False
        while True:
            try:
                if lost:
                    with contextlib.suppress(RedisError, OSError):
                        await self._pubsub.aclose()
                    self._pubsub = self.client.pubsub()
                    await self._pubsub.subscribe(self.channel)
                    lost = False
                await self._follow()
                raise ConnectionError("the fleet channel stopped")  # listen() ends only when unsubscribed
            except (RedisError, OSError) as exc:
                lost = True
                self.outage.failed(exc)
                await asyncio.sleep(RESUBSCRIBE_S)

    async def _follow(self) -> None:
        async for message in self._pubsub.listen():
            if message.get("type") != "message":
                continue
            change: dict[str, Any] = {}
            try:
                change = orjson.loads(message["data"])
                if change.get("origin") != self.worker:
                    await self.apply(change)
            except Exception:  # one bad change must not stop this worker hearing the next
                log.exception("could not apply a fleet change %r", message.get("data"))
            if isinstance(change, dict) and change.get("id"):
                key = self.ack_prefix + str(change["id"])
                async with self.client.pipeline(transaction=False) as pipe:
                    pipe.rpush(key, self.worker)
                    pipe.expire(key, 60)
                    await pipe.execute()
