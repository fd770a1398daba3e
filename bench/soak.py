"""Soak: does the mock's memory stay flat under a steady load once jobs expire? RSS slope per store.

The mock (`flux-mock serve --job-ttl 60`, otherwise its defaults) is loaded at a fixed rate (default 1000
req/s, half POST imagine, half GETs of jobs created a moment ago) for a bounded time, first in memory, then on
a private redis-server (FLUSHALLed first). Every 10 s the script samples the server's RSS (VmRSS summed over
its process tree: supervisor + workers), Redis's `used_memory` and the job count of /__mock/health; it fits a
least-squares line over the second half (after the warm-up) and prints the slope in MB/min.

The load is open-loop: request i is due at start + i/rate whatever the server does, and its latency is counted
from that instant (so a stall shows up as latency, not as a lower rate). It is this script's own asyncio
client (one keep-alive connection per `--connections`), not wrk: wrk2 is not in Debian. POSTs rotate over
`--keys` API keys: the mock runs `--concurrency` (4) jobs at once per key and queues the rest, so with one key
jobs would pile up in QUEUED and never finish, whatever their TTL. Loopback only.

    /work/main/.venv/bin/python bench/soak.py                  # 600 s per store, memory then redis (~21 min)
    /work/main/.venv/bin/python bench/soak.py --quick          # 60 s per store, a sample every 5 s, TTL 15 s
    /work/main/.venv/bin/python bench/soak.py --store redis --seconds 300 --rate 500 --json soak.json

Exit status: 0 when the soak ran, 1 when something broke (a server did not start, or answered non-2xx, or
connections failed).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import uvloop

if __package__ in (None, ""):  # run as a script: make `bench` importable from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet_servers import REDIS_ARGS, MockServer, RedisServer, redis_errors, serve_flags
from bench.run import BODY, FETCH, IMAGINE
from bench.servers import HOST

STORES = ("memory", "redis")
TTL_FLAGS = ("--job-ttl", "--job-ttl-s")  # the mock's TTL flag, and its first name (main at a2da9fd)
RECENT = 256  # GETs pick one of the last RECENT jobs created
CALL_TIMEOUT_S = 10.0
TICK_S = 0.001  # the dispatch quantum: a request leaves up to this late (its latency includes it)


@dataclass(slots=True)
class Window:
    """What the load saw between two samples (latency from each request's due time)."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0


@dataclass(slots=True)
class Load:
    """The open-loop load generator's state."""

    port: int
    keys: int
    post_share: float
    window: Window = field(default_factory=Window)
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    recent: list[tuple[str, str]] = field(default_factory=list)  # (messageId, key): a ring of the last RECENT
    created: int = 0  # jobs created so far (the ring's write position)
    error_count: int = 0
    sent: int = 0
    max_backlog: int = 0

    def post_bytes(self, key: str) -> bytes:
        head = f"POST {IMAGINE} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nAuthorization: Bearer {key}\r\n"
        body = BODY.encode()
        return (head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

    def get_bytes(self, message_id: str, key: str) -> bytes:
        path = FETCH.format(message_id)
        return f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nAuthorization: Bearer {key}\r\n\r\n".encode()

    def answered(self, latency_ms: float, status: int) -> None:
        self.window.latencies_ms.append(latency_ms)
        self.window.statuses[status] += 1

    def failed(self, error: str) -> None:
        self.window.errors += 1
        self.error_count += 1
        if len(self.errors) < 20:
            self.errors.append(error)


class Connection:
    """One keep-alive HTTP/1.1 connection to the mock; reopened after an error or `Connection: close`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def call(self, data: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        try:
            self.writer.write(data)
            head = (await self.reader.readuntil(b"\r\n\r\n")).lower()
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                raise RuntimeError(f"answer without Content-Length: {head[:200]!r}")
            length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
            body = await self.reader.readexactly(length)
        except BaseException:
            self.close()
            raise
        if b"\r\nconnection: close" in head:
            self.close()
        return int(head[9:12]), body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def drive(load: Load, rate: float, seconds: float, connections: int) -> None:
    """Send requests due at start + i/rate for `seconds` over `connections` keep-alive connections."""
    clock = time.monotonic  # not loop.time(): uvloop's is cached at millisecond resolution
    queue: asyncio.Queue[tuple[float, int] | None] = asyncio.Queue()  # None: no more requests, stop
    rng = random.Random(0)
    post_bytes = [load.post_bytes(f"sk-soak-{k}") for k in range(load.keys)]

    async def one(conn: Connection, due: float, i: int) -> None:
        is_post = not load.recent or int((i + 1) * load.post_share) > int(i * load.post_share)
        if is_post:
            key, data = f"sk-soak-{i % load.keys}", post_bytes[i % load.keys]
        else:
            message_id, key = load.recent[rng.randrange(len(load.recent))]
            data = load.get_bytes(message_id, key)
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                status, body = await conn.call(data)
            load.answered((clock() - due) * 1000, status)
            if is_post and status == 200:
                entry = (str(orjson.loads(body)["messageId"]), key)
                if len(load.recent) < RECENT:
                    load.recent.append(entry)
                else:
                    load.recent[load.created % RECENT] = entry
                load.created += 1
        except (OSError, EOFError, asyncio.LimitOverrunError, TimeoutError, RuntimeError, ValueError, KeyError) as e:
            load.failed(f"{'POST' if is_post else 'GET'}: {type(e).__name__}: {e}")

    async def worker() -> None:
        conn = Connection(load.port)
        try:
            while (item := await queue.get()) is not None:
                await one(conn, *item)
        finally:
            conn.close()

    # Workers stop on a None each, not on cancellation: Python 3.11's wait_for could swallow a cancel.
    tasks = [asyncio.create_task(worker()) for _ in range(connections)]
    start = clock()
    total = int(rate * seconds)
    i = 0
    try:
        while i < total:
            due_by_now = min(total, int((clock() - start) * rate) + 1)
            while i < due_by_now:
                queue.put_nowait((start + i / rate, i))
                i += 1
            load.sent = i
            load.max_backlog = max(load.max_backlog, queue.qsize())
            # Requests go out in batches every TICK_S at the least: a sub-millisecond sleep would spin the loop.
            await asyncio.sleep(max(TICK_S, start + i / rate - clock()))
    finally:
        for _ in tasks:
            queue.put_nowait(None)
        _done, pending = await asyncio.wait(tasks, timeout=CALL_TIMEOUT_S + 5)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)
            load.failed(f"{len(pending)} connection(s) still busy {CALL_TIMEOUT_S + 5:g} s after the load ended")


async def health_jobs(port: int) -> int | None:
    """Jobs the mock holds (GET /__mock/health), on a connection of its own; None if it did not answer."""
    conn = Connection(port)
    try:
        async with asyncio.timeout(CALL_TIMEOUT_S):
            status, body = await conn.call(f"GET /__mock/health HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        return int(orjson.loads(body)["jobs"]) if status == 200 else None
    except (OSError, EOFError, TimeoutError, RuntimeError, ValueError, KeyError):
        return None
    finally:
        conn.close()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def soak_one(
    args: argparse.Namespace, server: MockServer, redis: RedisServer | None
) -> tuple[Load, list[dict[str, Any]]]:
    """Run the load and sample every `args.sample_every` seconds; returns the load and the samples."""
    load = Load(server.port, args.keys, args.post_share)
    samples: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    cpu0 = server.tree_cpu_s()

    last = [start]

    async def sample(final: bool = False) -> None:
        window, load.window = load.window, Window()
        now = loop.time()
        elapsed, last[0] = now - last[0], now
        load.latencies_ms += window.latencies_ms
        load.statuses.update(window.statuses)
        if final and elapsed < 1.0:  # the load ended right after the last periodic sample
            return
        row: dict[str, Any] = {
            "t_s": round(now - start, 1),
            "rss_mb": round(server.tree_rss_mb(), 2),
            "processes": len(server.pids()),
            "jobs": await health_jobs(server.port),
            "requests": sum(window.statuses.values()),
            "rps": sum(window.statuses.values()) / elapsed if elapsed > 0.5 else None,
            "p99_ms": round(pct(window.latencies_ms, 99), 2),
            "non_2xx": sum(n for s, n in window.statuses.items() if not 200 <= s < 300),
            "errors": window.errors,
            "server_cpu_s": round(server.tree_cpu_s() - cpu0, 2),
        }
        if redis is not None:
            row["redis_used_mb"] = round(redis.used_memory_mb(), 2)
            row["redis_keys"] = redis.keys()
        samples.append(row)
        redis_part = f"  redis {row['redis_used_mb']:7.1f} MB {row['redis_keys']:>7,} keys" if redis else ""
        print(
            f"  {args.current:<6} t={row['t_s']:>5.0f} s  RSS {row['rss_mb']:7.1f} MB  jobs {row['jobs'] or 0:>7,}"
            f"{redis_part}  {row['rps'] or 0:>6,.0f} req/s  p99 {row['p99_ms']:7.2f} ms"
            + (f"  non-2xx {row['non_2xx']} errors {row['errors']}" if row["non_2xx"] or row["errors"] else ""),
            flush=True,
        )

    async def sampler() -> None:
        n = 1
        while True:
            await asyncio.sleep(max(0.0, start + n * args.sample_every - loop.time()))
            await sample()
            n += 1

    await sample()
    task = asyncio.create_task(sampler())
    try:
        await drive(load, args.rate, args.seconds, args.connections)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await sample(final=True)
    return load, samples


def slope_mb_per_min(samples: list[dict[str, Any]], key: str, from_s: float) -> float | None:
    """Least-squares slope of `key` over the samples at or after `from_s` seconds, in MB per minute."""
    pts = [(s["t_s"] / 60, s[key]) for s in samples if s["t_s"] >= from_s and s.get(key) is not None]
    if len(pts) < 3:
        return None
    return statistics.linear_regression([p[0] for p in pts], [p[1] for p in pts]).slope


def mock_flags(args: argparse.Namespace, flags: set[str], notes: list[str]) -> list[str]:
    """The TTL flag (`--job-ttl`, or `--job-ttl-s`) and `--max-jobs` when this checkout's mock has them."""
    extra: list[str] = []
    ttl_flag = next((f for f in TTL_FLAGS if f in flags), None)
    if ttl_flag is not None:
        extra += [ttl_flag, f"{args.job_ttl:g}"]
    else:
        notes.append("this mock has no --job-ttl flag: jobs never expire (the unbounded baseline)")
    if args.max_jobs is not None:
        if "--max-jobs" in flags:
            extra += ["--max-jobs", str(args.max_jobs)]
        else:
            notes.append("this mock has no --max-jobs flag: --max-jobs ignored")
    return extra


def run_store(args: argparse.Namespace, store: str, extra: list[str]) -> dict[str, Any]:
    redis: RedisServer | None = None
    if store == "redis":
        redis = RedisServer(args.redis_server)
        redis.start()
        redis.flushall()
        extra = [*args.redis_args.format(url=redis.url, workers=args.workers).split(), *extra]
    server = MockServer(f"mock-{store}", extra)
    try:
        server.start(("GET", "/__mock/health", None, {}))
        args.current = store
        self_before = resource.getrusage(resource.RUSAGE_SELF)
        load, samples = uvloop.run(soak_one(args, server, redis))
        self_after = resource.getrusage(resource.RUSAGE_SELF)
        log = server.output()
    finally:
        server.stop()
        if redis is not None:
            redis.stop()
    done = sum(load.statuses.values())
    from_s = args.seconds / 2
    gen_cpu = self_after.ru_utime + self_after.ru_stime - self_before.ru_utime - self_before.ru_stime
    result: dict[str, Any] = {
        "store": store,
        "command": ["python", "-m", *server.command()[2:]],
        "requests": done,
        "achieved_rps": done / args.seconds,
        "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
        "non_2xx": sum(n for s, n in load.statuses.items() if not 200 <= s < 300),
        "errors": load.error_count,
        "error_examples": load.errors,
        "p50_ms": pct(load.latencies_ms, 50),
        "p99_ms": pct(load.latencies_ms, 99),
        "max_ms": max(load.latencies_ms, default=float("nan")),
        "max_backlog": load.max_backlog,
        "loadgen_cpu_us_per_req": gen_cpu * 1e6 / max(done, 1),
        "server_cpu_us_per_req": samples[-1]["server_cpu_s"] * 1e6 / max(done, 1),
        "rss_start_mb": samples[0]["rss_mb"],
        "rss_end_mb": samples[-1]["rss_mb"],
        "rss_slope_mb_per_min": slope_mb_per_min(samples, "rss_mb", from_s),
        "jobs_start": samples[0]["jobs"],
        "jobs_end": samples[-1]["jobs"],
        "samples": samples,
        "server_log_tail": log[-2000:],
    }
    if redis is not None:
        result |= {
            "redis_used_start_mb": samples[0]["redis_used_mb"],
            "redis_used_end_mb": samples[-1]["redis_used_mb"],
            "redis_used_slope_mb_per_min": slope_mb_per_min(samples, "redis_used_mb", from_s),
            "redis_keys_end": samples[-1]["redis_keys"],
        }
    return result


def fmt_slope(value: float | None) -> str:
    return "n/a (too few samples)" if value is None else f"{value:+.2f} MB/min"


def render(args: argparse.Namespace, results: list[dict[str, Any]], notes: list[str]) -> str:
    lines = [
        "",
        f"flux-mock soak: {args.rate:g} req/s ({args.post_share:.0%} POST imagine, the rest GETs of recent jobs) "
        f"for {args.seconds:g} s per store, {args.connections} connections, {args.keys} API keys; "
        f"slope over t >= {args.seconds / 2:g} s",
    ]
    lines += [f"  {note}" for note in notes]
    for r in results:
        lines += [
            "",
            f"  {r['store']}: {' '.join(r['command'])}",
            f"    load      {r['requests']:,} answers, {r['achieved_rps']:,.0f} req/s achieved, "
            f"statuses {r['statuses']}, errors {r['errors']}",
            f"    latency   from due time: p50 {r['p50_ms']:.2f} / p99 {r['p99_ms']:.2f} / max {r['max_ms']:.1f} ms; "
            f"backlog max {r['max_backlog']} requests",
            f"    cpu       server {r['server_cpu_us_per_req']:.0f} µs/req, load generator "
            f"{r['loadgen_cpu_us_per_req']:.0f} µs/req",
            f"    RSS       {r['rss_start_mb']:.1f} -> {r['rss_end_mb']:.1f} MB (process tree); "
            f"slope {fmt_slope(r['rss_slope_mb_per_min'])}",
            f"    jobs      {r['jobs_start']} -> {r['jobs_end']} (/__mock/health)",
        ]
        if "redis_used_start_mb" in r:
            lines.append(
                f"    Redis     used_memory {r['redis_used_start_mb']:.1f} -> {r['redis_used_end_mb']:.1f} MB, "
                f"slope {fmt_slope(r['redis_used_slope_mb_per_min'])}; {r['redis_keys_end']:,} keys at the end"
            )
        for example in r["error_examples"][:3]:
            lines.append(f"    error     {example}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/soak.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--seconds", type=float, default=600, help="seconds of load per store (10..7200; default 600)")
    p.add_argument("--rate", type=float, default=1000, help="requests per second, fixed (1..20000; default 1000)")
    p.add_argument("--store", choices=("memory", "redis", "both"), default="both", help="which store(s) (default both)")
    p.add_argument(
        "--job-ttl",
        type=float,
        metavar="SECONDS",
        help="the mock's --job-ttl (default 60; 15 with --quick, so jobs expire well within the run)",
    )
    p.add_argument("--max-jobs", type=int, metavar="N", help="the mock's --max-jobs (default: the mock's own)")
    p.add_argument("--workers", type=int, default=1, help="mock workers in Redis mode (default 1)")
    p.add_argument("--connections", type=int, default=16, help="keep-alive connections (1..256; default 16)")
    p.add_argument("--keys", type=int, default=1000, help="API keys the POSTs rotate over (default 1000)")
    p.add_argument("--post-share", type=float, default=0.5, help="share of POSTs, the rest GETs (default 0.5)")
    p.add_argument("--sample-every", type=float, default=10, metavar="SECONDS", help="sampling period (default 10)")
    p.add_argument("--redis-args", default=REDIS_ARGS, metavar="TEMPLATE", help=f"default '{REDIS_ARGS}'")
    p.add_argument("--redis-server", default="redis-server", metavar="PATH", help="redis-server binary")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results (every sample) as JSON")
    p.add_argument("--quick", action="store_true", help="60 s per store, a sample every 5 s, job TTL 15 s")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.sample_every = 60, 5
    if args.job_ttl is None:
        args.job_ttl = 15.0 if args.quick else 60.0
    checks = (
        ("seconds", 10, 7200),
        ("rate", 1, 20000),
        ("connections", 1, 256),
        ("keys", 1, 100000),
        ("post_share", 0, 1),
        ("sample_every", 1, 600),
        ("workers", 1, 16),
        ("job_ttl", 0.001, 10**7),
    )
    for name, low, high in checks:
        if not low <= getattr(args, name) <= high:
            p.error(f"--{name.replace('_', '-')} is {getattr(args, name)}; it must be from {low} to {high}")
    args.current = ""
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stores = STORES if args.store == "both" else (args.store,)
    flags = serve_flags()
    notes = [f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]
    if "redis" in stores and args.redis_args.split()[0] not in flags:
        print(f"this checkout's `flux-mock serve` has no {args.redis_args.split()[0]} flag", file=sys.stderr)
        return 1
    extra = mock_flags(args, flags, notes)
    print(f"flux-mock soak: {', '.join(stores)}, {args.seconds:g} s each at {args.rate:g} req/s", flush=True)
    results: list[dict[str, Any]] = []
    broke: tuple[type[BaseException], ...] = (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError)
    try:
        for store in stores:
            results.append(run_store(args, store, extra))
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    except (*broke, *redis_errors()) as exc:
        print(f"soak broke: {exc}", file=sys.stderr)
        return 1
    notes.append(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(render(args, results, notes))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"config": {k: v for k, v in vars(args).items() if k != "json"}, "notes": notes, "results": results}
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\n  JSON written to {args.json}")
    bad = [r["store"] for r in results if r["non_2xx"] or r["errors"]]
    if bad:
        print(f"soak broke: non-2xx answers or connection errors on {', '.join(bad)} (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
