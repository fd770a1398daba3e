"""The webhook outbox in Redis: deliveries wait here until due, and one worker at a time holds a job's under a lease.

A worker that dies (even by SIGKILL) stops renewing its leases; once one expires, any worker claims the
job's deliveries again, and the record says how often each was taken (`takes`), so a delivery that may
have reached its receiver twice is journalled as a takeover.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mock_server.domain.stores import scripts
from mock_server.services.outages import Outage

Op = Callable[[Any], None]  # a buffered write, applied to a pipeline


class Planned(NamedTuple):
    """One delivery planned ahead, waiting to be written to the outbox."""

    delivery_id: str
    message_id: str
    record: str  # JSON
    due: float


# Forget a job's deliveries due after ARGV[1] that no worker holds (the job was forced; they are planned anew).
# KEYS: outbox, records, holders, the job's delivery set; ARGV: now
CANCEL = """
local now = tonumber(ARGV[1])
for _, id in ipairs(redis.call('SMEMBERS', KEYS[4])) do
  local score = redis.call('ZSCORE', KEYS[1], id)
  if score and tonumber(score) > now and not redis.call('HGET', KEYS[3], id) then
    redis.call('ZREM', KEYS[1], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('SREM', KEYS[4], id)
  end
end
return 1
"""


class RedisOutbox:
    """Deliveries by due instant (mock time), their records, who holds them, and how often each was taken."""

    def __init__(
        self, client: aioredis.Redis, prefix: str, worker: str, lease_s: float, outage: Outage | None = None
    ) -> None:
        self.client = client
        # The store's (one line per Redis outage for the whole worker); a lone outbox says its own.
        self.outage = outage or Outage(
            logging.getLogger("flux_mock.store"), "Redis is unreachable; retrying", "Redis answers again"
        )
        self.worker = worker
        self.lease_ms = max(1, int(lease_s * 1000))
        self.key = f"{prefix}outbox"
        self.records = f"{prefix}outbox:records"
        self.holders = f"{prefix}outbox:holders"
        self.takes = f"{prefix}outbox:takes"
        self.job_prefix = f"{prefix}outbox:job:"
        self.lease_prefix = f"{prefix}lease:"
        self._claim = client.register_script(scripts.CLAIM)
        self._renew = client.register_script(scripts.RENEW)
        self._release = client.register_script(scripts.RELEASE)
        self._cancel = client.register_script(CANCEL)
        self.pending: list[Op] = []  # cancellations made while re-planning a forced job, sent with its write
        self.planned: list[Planned] = []  # deliveries planned and not written yet
        self.wake: Callable[[float], None] = lambda due: None  # the pump's: a delivery is due at `due`

    @staticmethod
    def unreachable(exc: BaseException) -> bool:
        """Whether `exc` means Redis did not answer (an outage), not a bug."""
        return isinstance(exc, RedisError | OSError)

    # --- buffered while a job is planned (synchronously), written by the store with the job ---------------------

    def put(self, delivery_id: str, message_id: str, record: dict[str, Any], due: float) -> None:
        """Queue a delivery due at `due`: a new job's are taken by `take`, a forced job's written by `flush_into`."""
        self.planned.append(Planned(delivery_id, message_id, orjson.dumps(record).decode(), due))
        self.wake(due)

    def take(self, message_id: str) -> list[Planned]:
        """The deliveries just planned for a new job (the store writes them with `scripts.PLAN`)."""
        mine = [p for p in self.planned if p.message_id == message_id]
        if mine:
            self.planned = [p for p in self.planned if p.message_id != message_id]
        return mine

    def cancel_after(self, message_id: str, now: float) -> None:
        """Queue the removal of a job's deliveries due after `now` that nobody holds yet."""
        keys = [self.key, self.records, self.holders, self.job_prefix + message_id]
        self.pending.append(lambda pipe: pipe.evalsha(self._cancel.sha, len(keys), *keys, repr(now)))

    async def load(self) -> None:
        """Load the scripts a pipeline calls by hash."""
        await self.client.script_load(CANCEL)

    def flush_into(self, pipe: Any) -> None:
        """Add the queued writes to `pipe` (a transaction that also writes the forced job)."""
        ops, self.pending = self.pending, []
        planned, self.planned = self.planned, []
        for op in ops:
            op(pipe)
        for p in planned:
            pipe.hset(self.records, p.delivery_id, p.record)
            pipe.sadd(self.job_prefix + p.message_id, p.delivery_id)
            pipe.zadd(self.key, {p.delivery_id: p.due})

    # --- the pump's --------------------------------------------------------------------------------------------

    async def claim(self, now: float, limit: int = 64) -> tuple[list[tuple[str, dict[str, Any], int]], float | None]:
        """Deliveries due by `now` this worker may send, with how often each was taken; and the next due instant."""
        keys = [self.key, self.records, self.holders, self.takes]
        args: list[str | int] = [repr(now), self.worker, self.lease_ms, self.lease_prefix, limit]
        answer = await self._claim(keys=keys, args=args)
        nxt = float(answer[0]) if answer[0] not in ("", b"") else None
        items = answer[1:]
        claimed = [(_text(items[i]), orjson.loads(items[i + 1]), int(items[i + 2])) for i in range(0, len(items), 3)]
        return claimed, nxt

    async def done(self, delivery_id: str, message_id: str) -> None:
        """The delivery ended (delivered, failed, dropped ...): forget it."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zrem(self.key, delivery_id)
            pipe.hdel(self.records, delivery_id)
            pipe.hdel(self.holders, delivery_id)
            pipe.hdel(self.takes, delivery_id)
            pipe.srem(self.job_prefix + message_id, delivery_id)
            await pipe.execute()

    async def renew(self, message_ids: list[str]) -> None:
        """Keep holding these jobs' deliveries."""
        if message_ids:
            await self._renew(keys=[self.lease_prefix + m for m in message_ids], args=[self.worker, self.lease_ms])

    async def release(self, delivery_ids: list[str], message_ids: list[str]) -> None:
        """Hand deliveries back at a clean shutdown, so another worker takes them over at once."""
        if delivery_ids:
            keys = [self.holders, *(self.lease_prefix + m for m in message_ids)]
            await self._release(keys=keys, args=[self.worker, *delivery_ids])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
