"""`ScriptPipe`: one lean, pipelined connection to Redis for the store's hot script calls.

redis-py's asyncio client costs a worker ~130 µs of CPU per command here (connection pool, locks, its parser
glue), more than a whole in-memory request; a write per few polls made it the biggest cost of a poll on Redis.
The three calls every request pays a share of (a batch of creates, their webhook plans, the journal mirror) go
through this instead: RESP written by hand, replies parsed by hiredis, calls pipelined on one connection and
answered in order (~20 µs a call). Everything else keeps redis-py.

It connects on first use with what the client's URL says (host and port or a Unix socket, user, password,
database), and again after a lost connection. Failures are redis-py's own exceptions, so the store's outage
handling (`RedisError`, 503 and one log line) is unchanged. A URL it cannot serve (``rediss://``) makes every
call go through redis-py.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence
from typing import Any, cast

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.client import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError


def pack(*args: Any, tail: Sequence[bytes] = ()) -> bytes:
    """A RESP command (array of bulk strings); ints and floats as redis-py writes them (str, repr).

    `tail` (bytes) follows `args`, framed one format each: a journal batch is hundreds of arguments, and
    framing them through the general case was most of a write's cost.
    """
    out = [b"*%d\r\n" % (len(args) + len(tail))]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, float):
            data = repr(arg).encode()
        else:
            data = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    out += [b"$%d\r\n%b\r\n" % (len(d), d) for d in tail]
    return b"".join(out)


class _Protocol(asyncio.Protocol):
    """Replies matched to calls in order (Redis answers a connection's commands in the order sent)."""

    def __init__(self) -> None:
        self.reader = hiredis.Reader(replyError=ResponseError, encoding="utf-8")
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.lost: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio's subclasses
        self.loop = asyncio.get_running_loop()  # asked once: on 3.11 each ask costs a getpid()

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False and self.waiting:
            future = self.waiting.popleft()
            if not future.done():  # its caller may have been cancelled
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = RedisConnectionError(f"Connection to Redis lost: {exc or 'closed by the server'}.")
        self.transport = None
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(self.lost)

    def call(self, command: bytes, replies: int = 1) -> list[asyncio.Future[Any]]:
        """Send `command` (one or more commands, `replies` answers in all); a future for each answer."""
        if self.transport is None:
            raise self.lost or RedisConnectionError("Not connected to Redis.")
        futures: list[asyncio.Future[Any]] = [self.loop.create_future() for _ in range(replies)]
        self.waiting.extend(futures)
        self.transport.write(command)
        return futures


class ScriptPipe:
    """Run registered scripts (EVALSHA, loading one Redis does not know) and append to lists, on one lean connection."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        pool = client.connection_pool
        self._kwargs = dict(pool.connection_kwargs)
        # Plain TCP or a Unix socket; TLS (rediss://) and anything else stay with redis-py.
        self.usable = pool.connection_class in (aioredis.Connection, aioredis.UnixDomainSocketConnection)
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def run(self, script: AsyncScript, keys: list[str], args: list[Any]) -> Any:
        """`script(keys=keys, args=args)`, as redis-py would answer it (strings decoded)."""
        if not self.usable:
            return await script(keys=keys, args=args)
        command = pack("EVALSHA", script.sha, len(keys), *keys, *args)
        protocol = await self._connected()
        try:
            return await self._checked(protocol.call(command)[0])
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            # Redis lost its script cache (a restart, SCRIPT FLUSH): EVAL sends the text and caches it again.
            again = pack("EVAL", script.script, len(keys), *keys, *args)
            return await self._checked(protocol.call(again)[0])

    async def append(self, key: str, counter: str, size: int, items: Sequence[bytes]) -> None:
        """Push `items` onto the list `key`, keep its newest `size`, and add how many to `counter`, atomically.

        A transaction, not a script: a script gets every argument as a Lua string (copied and hashed), which cost
        Redis ~5 µs of its ~8 per journal entry; this costs it ~2.5.
        """
        if not self.usable:
            async with self.client.pipeline(transaction=True) as pipeline:
                pipeline.rpush(key, *items)
                pipeline.ltrim(key, -size, -1)
                pipeline.incrby(counter, len(items))
                await pipeline.execute()
            return
        protocol = await self._connected()
        commands = b"".join(
            (
                pack("MULTI"),
                pack("RPUSH", key, tail=items),
                pack("LTRIM", key, -size, -1),
                pack("INCRBY", counter, len(items)),
                pack("EXEC"),
            )
        )
        # OK, QUEUED three times, then EXEC's answers: a list, or an error when a command was refused
        replies = await asyncio.gather(*protocol.call(commands, 5), return_exceptions=True)
        done = replies[-1]
        for answer in [*replies[:-1], *(done if isinstance(done, list) else [done])]:
            if isinstance(answer, BaseException):
                raise answer

    async def aclose(self) -> None:
        """Close the connection (a later call opens a new one)."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()

    @staticmethod
    async def _checked(future: asyncio.Future[Any]) -> Any:
        reply = await future
        if isinstance(reply, ResponseError):
            raise reply
        return reply

    async def _connected(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and protocol.transport is not None:
            return protocol
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is None or self._protocol.transport is None:
                self._protocol = await self._connect()
            return self._protocol

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        kw = self._kwargs
        try:
            if "path" in kw:
                _, protocol = await loop.create_unix_connection(_Protocol, kw["path"])
            else:
                _, protocol = await loop.create_connection(_Protocol, kw.get("host", "localhost"), kw.get("port", 6379))
        except OSError as exc:
            raise RedisConnectionError(f"Error connecting to Redis: {exc}.") from None
        setup = []
        if kw.get("password") is not None:
            user = kw.get("username")
            setup.append(pack("AUTH", *([user] if user else []), kw["password"]))
        if kw.get("db"):
            setup.append(pack("SELECT", kw["db"]))
        try:
            for command in setup:
                await self._checked(protocol.call(command)[0])
        except BaseException:  # a wrong password or database: say so, and leave no connection behind
            if protocol.transport is not None:
                protocol.transport.close()
            raise
        return protocol
