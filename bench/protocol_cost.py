"""Per-request cost of the connection limits, in process: uvicorn's `HttpToolsProtocol` vs flux-mock's.

Both protocols are fed the same keep-alive GET over a fake transport and answer it with a no-op ASGI app, on
one uvloop loop; variants alternate in short blocks and the medians are compared. No sockets, no wrk, so the
machine's noise barely moves the difference, and the microseconds it prints can be set against the mock's
own per-request time (1 / req/s from bench/run.py or bench/limits.py).

    /work/main/.venv/bin/python bench/protocol_cost.py            # 15 blocks x 20000 requests per variant
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import uvloop
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from mock_server import Settings
from mock_server.run.connections import Limits, limited_protocol

REQUEST = (
    b"GET /api/v1/message/fetch/e3e70682-c209-4cac-a29f-6fbed82c07cd HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
    b"Authorization: Bearer sk-bench\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"
)


async def noop_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def write(self, data: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8080)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def block(protocol_class: type[HttpToolsProtocol], config: Config, n: int) -> float:
    """Seconds for `n` requests on one kept-alive connection."""
    proto = protocol_class(config, ServerState(), {})  # type: ignore[arg-type]
    proto.connection_made(FakeTransport())
    tasks = proto.tasks
    started = time.perf_counter()
    for _ in range(n):
        proto.data_received(REQUEST)
        while tasks:  # let the app answer before the next request (as a client waiting for it would)
            await asyncio.sleep(0)
    elapsed = time.perf_counter() - started
    proto.connection_lost(None)
    return elapsed


async def measure(blocks: int, n: int) -> dict[str, list[float]]:
    config = Config(noop_app, log_level="warning", access_log=False, lifespan="off")
    config.load()
    variants = {"before": HttpToolsProtocol, "after": limited_protocol(Limits.from_settings(Settings()))}
    times: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(blocks):
        order = list(variants) if i % 2 == 0 else list(variants)[::-1]
        for name in order:
            times[name].append(await block(variants[name], config, n) / n * 1e6)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/protocol_cost.py", description=__doc__)
    p.add_argument("--blocks", type=int, default=15)
    p.add_argument("--requests", type=int, default=20_000)
    args = p.parse_args(argv)
    times = uvloop.run(measure(args.blocks, args.requests))
    before, after = statistics.median(times["before"]), statistics.median(times["after"])
    diffs = [a - b for b, a in zip(times["before"], times["after"], strict=True)]
    print(
        f"per request: before {before:.2f} µs, after {after:.2f} µs; added {statistics.median(diffs):.2f} µs "
        f"(median of per-block differences; blocks {' '.join(f'{d:+.2f}' for d in diffs)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
