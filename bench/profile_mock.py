"""Where the mock's time goes: drive the ASGI apps in-process (no sockets) and profile with cProfile.

Measures µs per request for the bare Starlette baseline and the mock on the same scenario, then
prints cProfile's top functions for the mock, and (with --gc) how long the collector pauses once
the store holds many jobs — pauses that show up as p99 latency under load.

    /work/venv/bin/python bench/profile_mock.py --scenario post --requests 20000
    /work/venv/bin/python bench/profile_mock.py --scenario get --top 30
    /work/venv/bin/python bench/profile_mock.py --gc --jobs 150000
    /work/venv/bin/python bench/profile_mock.py --live --scenario post --duration 5

--live profiles the real thing: uvicorn (uvloop, httptools) serving the mock on 127.0.0.1 in this
process under cProfile, loaded by wrk from a second thread (pinned to CPU 1 when taskset exists);
it also reports the share of time spent in the garbage collector.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.baseline_app import app as baseline_app
from bench.loadgen import WrkResult, run_wrk, write_script, wrk_path
from mock_server import Settings, create_app

KEY = b"Bearer sk-bench"
BODY = b'{"prompt":"a red fox in the snow","n":2,"width":1024,"height":768,"output_format":"webp"}'
ASGI = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def make_scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"wrk"), (b"authorization", KEY)]
    if method == "POST":
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
    }  # fmt: skip


async def call(app: ASGI, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request through the ASGI app, as uvicorn would make it (fresh scope and state each time)."""
    scope = make_scope(method, path, body)
    scope["state"] = {}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def loop(app: ASGI, method: str, path: str, body: bytes, n: int) -> float:
    """Seconds for n sequential requests."""
    t0 = time.perf_counter()
    for _ in range(n):
        await call(app, method, path, body)
    return time.perf_counter() - t0


async def target(app: ASGI, scenario: str) -> tuple[str, str, bytes]:
    if scenario == "post":
        return "POST", "/api/v1/flux/imagine", BODY
    status, answer = await call(app, "POST", "/api/v1/flux/imagine", BODY)
    assert status == 200, answer
    message_id = answer.split(b'"messageId":"')[1].split(b'"')[0].decode()
    return "GET", f"/api/v1/message/fetch/{message_id}", b""


async def compare(scenario: str, n: int, top: int) -> None:
    mock = create_app(Settings(port=8080, job_seconds=0))  # instant jobs: GET answers the DONE message at once
    apps: dict[str, ASGI] = {"baseline": baseline_app, "mock": mock}
    per: dict[str, float] = {}
    for name, app in apps.items():
        method, path, body = await target(app, scenario)
        status, answer = await call(app, method, path, body)
        assert status == 200, (name, status, answer)
        await loop(app, method, path, body, min(n, 2000))  # warm up
        per[name] = min([await loop(app, method, path, body, n) for _ in range(3)]) / n * 1e6
        print(f"{name:<8} {scenario.upper()} in-process: {per[name]:7.1f} µs/request (best of 3 x {n:,})")
    print(
        f"mock/baseline cost: {per['mock'] / per['baseline']:.2f}x; "
        f"mock adds {per['mock'] - per['baseline']:.1f} µs/request on top of routing + JSON\n"
    )
    method, path, body = await target(mock, scenario)
    profiler = cProfile.Profile()
    profiler.enable()
    await loop(mock, method, path, body, n)
    profiler.disable()
    print_stats(profiler, f"mock {scenario.upper()} in-process", top)


async def gc_pauses(jobs: int) -> None:
    mock = create_app(Settings(port=8080))
    pauses: list[tuple[int, float, int]] = []
    started: list[float] = [0.0]

    def timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], (time.perf_counter() - started[0]) * 1000, info["collected"]))

    gc.callbacks.append(timer)
    try:
        t0 = time.perf_counter()
        await loop(mock, "POST", "/api/v1/flux/imagine", BODY, jobs)
        total = time.perf_counter() - t0
    finally:
        gc.callbacks.remove(timer)
    gen2 = [ms for g, ms, _ in pauses if g == 2]
    in_gc = sum(ms for _, ms, _ in pauses)
    print(f"{jobs:,} POSTs in {total:.1f} s; {len(pauses)} collections, of which {len(gen2)} full (gen 2)")
    print(f"  gen 2 pauses (ms): {', '.join(f'{ms:.0f}' for ms in gen2)}")
    print(
        f"  gen 0/1 pauses: max {max((ms for g, ms, _ in pauses if g < 2), default=0):.2f} ms; "
        f"time in all collections {in_gc / 1000:.2f} s ({in_gc / 10 / total:.1f}%)"
    )
    print(f"  tracked objects now: {len(gc.get_objects()):,}; gc thresholds {gc.get_threshold()}")


def print_stats(profiler: cProfile.Profile, title: str, top: int) -> None:
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(top)
        print(f"--- {title}: top {top} by {key} ---")
        print("\n".join(ln for ln in out.getvalue().splitlines() if ln.strip()))


def live(scenario: str, seconds: int, top: int) -> int:
    """Profile uvicorn + the mock in this process while wrk loads it."""
    import uvicorn

    from mock_server.run.listener import bind_socket

    wrk = wrk_path()
    if wrk is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    pin = shutil.which("taskset") is not None and {0, 1} <= os.sched_getaffinity(0)
    if pin:
        os.sched_setaffinity(0, {0})  # this process (the server) on CPU 0; wrk goes to CPU 1
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(Settings(port=port))
    config = uvicorn.Config(app, loop="uvloop", http="httptools", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    tmp = Path(tempfile.mkdtemp(prefix="flux-profile-"))
    headers = {"Content-Type": "application/json", "Authorization": KEY.decode()}
    script = write_script(
        tmp / "load.lua",
        "POST" if scenario == "post" else "GET",
        headers,
        BODY.decode() if scenario == "post" else None,
    )
    outcome: dict[str, WrkResult | BaseException] = {}
    gc_ms: list[float] = []
    gc_started = [0.0]

    def gc_timer(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            gc_ms.append((time.perf_counter() - gc_started[0]) * 1000)

    def drive() -> None:
        try:
            while not server.started:
                time.sleep(0.01)
            from bench.servers import request

            path = "/api/v1/flux/imagine"
            status, answer = request(port, "POST", path, BODY.decode(), headers)
            if status != 200:
                raise RuntimeError(f"POST answered {status}: {answer}")
            if scenario == "get":
                path = f"/api/v1/message/fetch/{answer['messageId']}"
            gc.callbacks.append(gc_timer)
            outcome["wrk"] = run_wrk(
                wrk, f"http://127.0.0.1:{port}{path}", script, seconds=seconds, connections=32, cpu=1 if pin else None
            )
        except BaseException as exc:  # reported below
            outcome["error"] = exc
        finally:
            if gc_timer in gc.callbacks:
                gc.callbacks.remove(gc_timer)
            server.should_exit = True

    threading.Thread(target=drive, daemon=True).start()
    profiler = cProfile.Profile()
    profiler.enable()
    server.run(sockets=[sock])
    profiler.disable()
    shutil.rmtree(tmp, ignore_errors=True)
    if "error" in outcome:
        raise RuntimeError(f"load failed: {outcome['error']}")
    result = outcome["wrk"]
    assert isinstance(result, WrkResult)
    print(
        f"live {scenario.upper()} under cProfile: {result.rps:,.0f} req/s (profiler overhead included), "
        f"p99 {result.p99_ms:.1f} ms, {len(app.state.services.jobs):,} jobs stored"
    )
    print(
        f"garbage collector: {len(gc_ms)} collections, {sum(gc_ms):.0f} ms in total "
        f"({sum(gc_ms) / 10 / seconds:.1f}% of the run), longest {max(gc_ms, default=0):.0f} ms\n"
    )
    print_stats(profiler, f"live mock {scenario.upper()}", top)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", choices=("post", "get"), default="post", help="which hot path (default: post)")
    p.add_argument("--requests", type=int, default=20_000, help="requests per timed loop (default 20000)")
    p.add_argument("--top", type=int, default=25, help="functions listed per cProfile table (default 25)")
    p.add_argument("--gc", action="store_true", help="instead: time garbage-collector pauses while storing --jobs jobs")
    p.add_argument("--jobs", type=int, default=150_000, help="jobs POSTed for --gc (default 150000)")
    p.add_argument("--live", action="store_true", help="instead: profile a real uvicorn server loaded by wrk")
    p.add_argument("--duration", type=int, default=5, help="seconds of wrk load for --live (1..60; default 5)")
    args = p.parse_args(argv)
    if not 1 <= args.duration <= 60:
        p.error("--duration must be from 1 to 60")
    if args.live:
        return live(args.scenario, args.duration, args.top)
    asyncio.run(gc_pauses(args.jobs) if args.gc else compare(args.scenario, args.requests, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
