"""The lean connection for the hot script calls: redis-py's answers, its errors, in order, and after a loss."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis_support import RedisServer

from mock_server.services.stores.pipe import ScriptPipe, pack

pytestmark = pytest.mark.anyio

ECHO = "redis.call('SET', KEYS[1], ARGV[1]); return {ARGV[1], tonumber(ARGV[2]), {ARGV[3]}, redis.call('GET', KEYS[1])}"
FAIL = "return redis.error_reply('ERR no such thing')"


def with_db(url: str, db: int) -> str:
    return url.rsplit("/", 1)[0] + f"/{db}"


Connected = tuple[aioredis.Redis, ScriptPipe]


@pytest.fixture
async def connected(redis_url: str) -> AsyncIterator[Connected]:
    """A redis-py client on database 3 of the test's Redis, and a pipe made from it (both closed after)."""
    client = aioredis.from_url(with_db(redis_url, 3), decode_responses=True)
    pipe = ScriptPipe(client)
    try:
        yield client, pipe
    finally:
        await pipe.aclose()
        await client.aclose()


def test_a_command_is_packed_as_redis_py_packs_it() -> None:
    args = ("EVALSHA", "abc", 2, "k1", "k2", b"\x00raw", 1.5, 1765000000.125, -3, "é")
    assert pack(*args) == b"".join(Connection().pack_command(*args))


async def test_a_script_answers_as_through_redis_py_in_the_urls_database(connected: Connected) -> None:
    client, pipe = connected
    script = client.register_script(ECHO)
    assert pipe.usable
    args: list[str | int | bytes] = ["héllo", 42, b"bytes"]
    assert await pipe.run(script, ["k"], args) == await script(keys=["k"], args=args)
    assert await pipe.run(script, ["k"], args) == ["héllo", 42, ["bytes"], "héllo"]
    assert await client.get("k") == "héllo"  # written in database 3, as the URL says


def test_a_tail_is_packed_as_the_arguments_it_adds() -> None:
    tail = [b'{"a":1}', b"x\r\ny", b""]
    assert pack("RPUSH", "k", tail=tail) == b"".join(Connection().pack_command("RPUSH", "k", *tail))


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "redis-py"])
async def test_append_pushes_trims_and_counts_at_once(connected: Connected, lean: bool) -> None:
    client, pipe = connected
    pipe.usable = lean  # False: as for a rediss:// URL, a redis-py transaction
    await pipe.append("log", "written", 3, [b"1", b"2"])
    await pipe.append("log", "written", 3, [b"3", b"x\r\ny", b""])
    assert await client.lrange("log", 0, -1) == ["3", "x\r\ny", ""]  # the newest 3, in the order written
    assert await client.get("written") == "5"


@pytest.mark.parametrize("lean", [True, False], ids=["lean", "redis-py"])
async def test_a_refused_append_raises_and_changes_nothing(connected: Connected, lean: bool) -> None:
    client, pipe = connected
    pipe.usable = lean
    await client.set("log", "not a list")
    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await pipe.append("log", "written", 3, [b"1"])
    assert await client.get("log") == "not a list"
    assert await pipe.run(client.register_script("return ARGV[1]"), [], ["still answering"]) == "still answering"


async def test_a_script_redis_forgot_is_sent_again_and_an_error_reply_raises(connected: Connected) -> None:
    client, pipe = connected
    await client.script_flush()  # as after a restart of Redis: EVALSHA answers NOSCRIPT
    assert await pipe.run(client.register_script(ECHO), ["k"], ["a", 1, "b"]) == ["a", 1, ["b"], "a"]
    with pytest.raises(ResponseError, match="no such thing"):
        await pipe.run(client.register_script(FAIL), [], [])
    assert await pipe.run(client.register_script(ECHO), ["k"], ["c", 2, "d"]) == ["c", 2, ["d"], "c"]


async def test_calls_in_flight_together_each_get_their_own_answer(connected: Connected) -> None:
    client, pipe = connected
    script = client.register_script(ECHO)
    answers = await asyncio.gather(*(pipe.run(script, [f"k{i}"], [f"v{i}", i, "x"]) for i in range(50)))
    assert [a[:2] for a in answers] == [[f"v{i}", i] for i in range(50)]


async def test_a_lost_connection_fails_its_calls_as_redis_errors_and_the_next_call_reconnects(
    connected: Connected,
) -> None:
    client, pipe = connected
    script = client.register_script("return ARGV[1]")
    assert await pipe.run(script, [], ["first"]) == "first"
    protocol = pipe._protocol
    assert protocol is not None
    [blocked] = protocol.call(pack("BLPOP", "nothing-here", 5))  # in flight until the connection goes
    assert await client.client_kill_filter(_type="normal", skipme=True) >= 1  # as if the connection were lost
    with pytest.raises(RedisConnectionError, match=r"Connection to Redis lost"):
        await blocked
    assert await pipe.run(script, [], ["again"]) == "again"  # connected anew


async def test_an_unreachable_redis_is_a_redis_error_naming_the_cause() -> None:
    client = aioredis.from_url("redis://127.0.0.1:1/0")
    pipe = ScriptPipe(client)
    with pytest.raises(RedisError, match="Error connecting to Redis"):
        await pipe.run(client.register_script(ECHO), ["k"], ["a", 1, "b"])
    await client.aclose()


async def test_a_password_in_the_url_is_sent_first(tmp_path: Path) -> None:
    server = RedisServer(tmp_path).start()
    try:
        admin = aioredis.from_url(server.url)
        await admin.config_set("requirepass", "s3cret")
        await admin.aclose()
        good = aioredis.from_url(f"redis://:s3cret@127.0.0.1:{server.port}/1", decode_responses=True)
        pipe = ScriptPipe(good)
        assert await pipe.run(good.register_script(ECHO), ["k"], ["a", 1, "b"]) == ["a", 1, ["b"], "a"]
        await pipe.aclose()
        await good.aclose()
        wrong = aioredis.from_url(f"redis://:nope@127.0.0.1:{server.port}/1")
        with pytest.raises(ResponseError, match=r"WRONGPASS|invalid"):
            await ScriptPipe(wrong).run(wrong.register_script(ECHO), ["k"], ["a", 1, "b"])
        await wrong.aclose()
    finally:
        server.stop()


def test_a_tls_url_stays_with_redis_py() -> None:
    assert not ScriptPipe(aioredis.from_url("rediss://127.0.0.1:6380/0")).usable
    assert ScriptPipe(aioredis.from_url("unix:///tmp/redis.sock?db=2")).usable
