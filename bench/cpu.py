"""Benchmark: CPU time per request beside req/s, for bare Starlette, the mock in memory (fresh and at the
`--max-jobs` cap) and the mock on Redis with 1 and 2 workers, in one run.

CPU per request = (utime + stime of the server's processes, supervisor and workers, plus redis-server's for
the Redis servers, read from /proc/<pid>/stat before and after) / requests, over fixed wrk runs. It is far
less sensitive to a shared machine than req/s. Every server is started afresh in every round. The servers the
targets compare (bare, memory, memory-cap, redis-1w) are up together in a round and take turns in one-second
slices, in an order that reverses every slice and every round, so a slow phase of the machine, which lasts
seconds, falls on all of them alike; redis-2w (no target) runs alone after them, on the same redis-server.
Servers and redis-server are pinned to one CPU and wrk to another.

    .venv/bin/python bench/cpu.py                    # 3 rounds x 5 s x 3 scenarios x 5 servers, ~8 min
    .venv/bin/python bench/cpu.py --quick            # smoke run: 1 round x 1 s, a 20,000-job cap, ~1 min
    .venv/bin/python bench/cpu.py --servers bare,memory,memory-cap --json bench/results/cpu.json

Exit status: 0 when the benchmark ran (whatever the verdicts), 1 when something broke (a server did not
start, a non-2xx answer), 2 when wrk or redis-server is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cputime import Measure, cpu_per_request_us, render
from bench.fleet_servers import REDIS_ARGS, BaselineServer, MockServer, RedisServer, TreeMixin, cpu_s, redis_errors
from bench.loadgen import INSTALL_HINT, WrkResult, run_wrk, write_script, wrk_path
from bench.run import BODY, FETCH, GET_HEADERS, IMAGINE, LIVE_BODY, POST_HEADERS, pick_cpus, versions
from bench.servers import request
from mock_server.domain.jobs import eviction_batch

SERVERS = ("bare", "memory", "memory-cap", "redis-1w", "redis-2w")
TOGETHER = ("bare", "memory", "memory-cap", "redis-1w")  # up at once, measured in interleaved slices
SLICE_S = 1  # seconds of one server's turn
# GETs first, so the fresh mock's store is still small when they run; POST last (it fills the store).
SCENARIOS = {"get": "GET done", "get-live": "GET processing", "post": "POST imagine"}
FILL_CHUNK_S = 2  # seconds of POST per step while filling a store to its cap


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/cpu.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=3, help="rounds, each server afresh in each (1..20; default 3)")
    p.add_argument(
        "--duration", type=int, default=5, metavar="SECONDS",
        help="measured seconds per server and scenario in a round, in one-second slices (1..60; 5)",
    )  # fmt: skip
    p.add_argument("--warmup", type=int, default=1, metavar="SECONDS", help="unmeasured load first (0..30; 1)")
    p.add_argument("--connections", type=int, default=32, help="wrk's keep-alive connections (1..1024; 32)")
    p.add_argument("--max-jobs", type=int, default=100_000, help="the mock's --max-jobs (the cap; default 100000)")
    p.add_argument("--servers", default=",".join(SERVERS), help=f"comma-separated subset of {', '.join(SERVERS)}")
    p.add_argument("--redis-server", default="redis-server", help="the redis-server binary (default: on PATH)")
    p.add_argument("--no-pin", action="store_true", help="do not pin servers to one CPU and wrk to another")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write every measurement as JSON to PATH")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round of 1 s, --max-jobs 20000")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup, args.max_jobs = 1, 1, 1, 20_000
    for name, low, high in (("rounds", 1, 20), ("duration", 1, 60), ("warmup", 0, 30), ("connections", 1, 1024)):
        if not low <= getattr(args, name) <= high:
            p.error(f"--{name} is {getattr(args, name)}; it must be from {low} to {high}")
    if not 1_000 <= args.max_jobs <= 1_000_000:
        p.error(f"--max-jobs is {args.max_jobs}; it must be from 1000 to 1000000")
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = sorted(set(servers) - set(SERVERS))
    if unknown or not servers:
        p.error(f"--servers: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(SERVERS)}")
    args.servers = [s for s in SERVERS if s in servers]
    return args


@dataclass(frozen=True)
class Ready:
    """A started server, its redis-server (Redis servers only) and the URL of each scenario."""

    name: str
    server: TreeMixin
    redis: RedisServer | None
    urls: dict[str, str]


class Runner:
    """Starts each server, prepares its jobs, and measures every scenario on it."""

    def __init__(self, args: argparse.Namespace, wrk: str, redis: RedisServer | None) -> None:
        self.args, self.wrk, self.redis = args, wrk, redis
        self.server_cpu, self.wrk_cpu, self.pin_note = pick_cpus(args.no_pin)
        self.tmp = Path(tempfile.mkdtemp(prefix="flux-cpu-"))
        self.scripts = {
            "post": write_script(self.tmp / "post.lua", "POST", POST_HEADERS, BODY),
            "get": write_script(self.tmp / "get.lua", "GET", GET_HEADERS),
            # Another key fills the store: its queue grows for hours of mock time, the measured key's stays free.
            "fill": write_script(
                self.tmp / "fill.lua", "POST", {**POST_HEADERS, "Authorization": "Bearer sk-fill"}, BODY
            ),
        }
        self.measures: list[Measure] = []

    def make(self, name: str) -> TreeMixin:
        cap = ["--max-jobs", str(self.args.max_jobs)]
        if name == "bare":
            return BaselineServer(name, 1)
        if name.startswith("redis"):
            assert self.redis is not None
            self.redis.flushall()
            return MockServer(name, [*REDIS_ARGS.format(url=self.redis.url, workers=name[-2]).split(), *cap])
        return MockServer(name, cap)

    def run_round(self, names: list[str], rnd: int) -> None:
        """Start `names` (in this order), then measure every scenario on all of them, slice by slice."""
        ready: list[Ready] = []
        try:
            for name in names:
                ready.append(self.prepare(name))
            for scenario, title in SCENARIOS.items():
                self.measure(ready, scenario, title, rnd)
        finally:
            for one in ready:
                one.server.stop()

    def prepare(self, name: str) -> Ready:
        """Start one server, fill it to its cap if it is the capped one, and make its finished and live jobs."""
        server = self.make(name)
        redis = self.redis if name.startswith("redis") else None
        try:
            server.start(("POST", IMAGINE, BODY, POST_HEADERS))
            self.pin([*server.pids(), *([redis.proc.pid] if redis and redis.proc else [])])
            if name == "memory-cap":
                self.fill(server)
            done = request(server.port, "POST", IMAGINE, BODY, POST_HEADERS)[1]["messageId"]
            live = request(server.port, "POST", IMAGINE, LIVE_BODY, POST_HEADERS)[1]["messageId"]
            if name != "bare":  # the finished job: mock time jumps past its end (the live one runs for an hour)
                request(server.port, "POST", "/__mock/clock/advance", '{"seconds": 60}', POST_HEADERS)
                self.expect_status(server, done, "DONE")
                self.expect_status(server, live, "PROCESSING")
        except BaseException:
            server.stop()
            raise
        urls = {"get": FETCH.format(done), "get-live": FETCH.format(live), "post": IMAGINE}
        return Ready(name, server, redis, {k: server.url + v for k, v in urls.items()})

    def measure(self, ready: list[Ready], scenario: str, title: str, rnd: int) -> None:
        """`--duration` one-second turns per server on `scenario`, the order reversing every turn; one `Measure`
        per server from the sums. Its p99 is the median of its turns' p99s: each turn opens wrk's connections
        afresh on a server whose caches the others just used, which one turn in three can show in its p99."""
        script = self.scripts["post" if scenario == "post" else "get"]
        if self.args.warmup:
            for one in ready:
                self.load(one.server, title, one.urls[scenario], script, self.args.warmup)
        sums = {one.name: [0, 0.0, 0.0] for one in ready}  # requests, server CPU s, redis CPU s
        p99s: dict[str, list[float]] = {one.name: [] for one in ready}
        for turn in range(self.args.duration // SLICE_S):
            for one in ready if turn % 2 == 0 else ready[::-1]:
                redis_pid = one.redis.proc.pid if one.redis and one.redis.proc else None
                before = one.server.tree_cpu_s(), cpu_s(redis_pid) if redis_pid else 0.0
                result = self.load(one.server, title, one.urls[scenario], script, SLICE_S)
                after = one.server.tree_cpu_s(), cpu_s(redis_pid) if redis_pid else 0.0
                total = sums[one.name]
                total[0] += result.requests
                total[1] += after[0] - before[0]
                total[2] += after[1] - before[1]
                p99s[one.name].append(result.p99_ms)
        for one in ready:
            requests, server_s, redis_s = sums[one.name]
            p99 = statistics.median(p99s[one.name])
            measure = Measure(
                scenario,
                one.name,
                rnd,
                int(requests),
                requests / self.args.duration,
                p99,
                cpu_per_request_us(0.0, server_s, int(requests)),
                cpu_per_request_us(0.0, redis_s, int(requests)) if one.redis else 0.0,
            )
            self.measures.append(measure)
            print(
                f"  round {rnd}/{self.args.rounds}  {one.name:<11} {title:<15} {measure.rps:>8,.0f} req/s  "
                f"p99 {measure.p99_ms:6.2f} ms  CPU {measure.mock_us:6.1f} µs/req"
                + (f" + redis {measure.redis_us:5.1f}" if one.redis else ""),
                flush=True,
            )

    def pin(self, pids: list[int]) -> None:
        if self.server_cpu is None:
            return
        for pid in pids:
            with contextlib.suppress(OSError):  # a process that is gone needs no pinning
                os.sched_setaffinity(pid, {self.server_cpu})

    def fill(self, server: TreeMixin) -> None:
        """POST until the store has passed its cap and evicts (bounded by a deadline)."""
        cap, sent = self.args.max_jobs, 0
        deadline = time.monotonic() + 600
        while True:
            sent += self.load(server, "fill", server.url + IMAGINE, self.scripts["fill"], FILL_CHUNK_S).requests
            status, health = request(server.port, "GET", "/__mock/health")
            jobs = int(health["jobs"]) if status == 200 else -1
            if sent > cap and jobs >= cap - eviction_batch(cap):
                print(f"  {server.name}: {sent:,} creates, {jobs:,} jobs held (cap {cap:,})", flush=True)
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.name}: {sent:,} creates in 600 s and the store holds {jobs}: not full")

    def load(self, server: TreeMixin, title: str, url: str, script: Path, seconds: int) -> WrkResult:
        result = run_wrk(self.wrk, url, script, seconds=seconds, connections=self.args.connections, cpu=self.wrk_cpu)
        if result.requests == 0 or result.non_2xx:
            raise RuntimeError(
                f"{server.name} {title}: {result.requests} requests, {result.non_2xx} non-2xx answers; "
                f"the numbers would be meaningless\n{server.output()}"
            )
        return result

    @staticmethod
    def expect_status(server: TreeMixin, message_id: str, wanted: str) -> None:
        status, body = request(server.port, "GET", FETCH.format(message_id), headers=GET_HEADERS)
        seen = body.get("status") if status == 200 and isinstance(body, dict) else f"HTTP {status}"
        if seen != wanted:
            raise RuntimeError(f"{server.name}: job {message_id} is {seen}, the scenario needs {wanted}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = wrk_path()
    if wrk is None:
        print(f"wrk (the load generator) is not installed: {INSTALL_HINT}", file=sys.stderr)
        return 2
    wants_redis = any(s.startswith("redis") for s in args.servers)
    if wants_redis and shutil.which(args.redis_server) is None and not os.path.exists(args.redis_server):
        print(f"{args.redis_server} not found: apt-get install -y redis-server (or --servers without redis-*)")
        return 2
    minutes = args.rounds * len(args.servers) * len(SCENARIOS) * (args.duration + args.warmup + 1) / 60
    print(f"flux-mock CPU bench: {args.rounds} round(s) x {len(args.servers)} servers x {len(SCENARIOS)} scenarios "
          f"x {args.duration} s (~{minutes:.0f} min plus filling {args.max_jobs:,} jobs per round); load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)  # fmt: skip
    redis = RedisServer(args.redis_server) if wants_redis else None
    runner = Runner(args, wrk, redis)
    print(f"  {runner.pin_note}", flush=True)
    try:
        if redis is not None:
            redis.start()
        for rnd in range(1, args.rounds + 1):
            together = [s for s in args.servers if s in TOGETHER]
            runner.run_round(together if rnd % 2 else together[::-1], rnd)
            for name in (s for s in args.servers if s not in TOGETHER):  # redis-2w: alone, on the same redis-server
                runner.run_round([name], rnd)
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, ValueError, KeyError, subprocess.SubprocessError, *redis_errors()) as exc:
        print(f"benchmark broke: {exc}", file=sys.stderr)
        return 1
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(runner.tmp, ignore_errors=True)
    print(f"\nCPU per request and req/s, medians over {args.rounds} round(s) of {args.duration} s; "
          f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(render(runner.measures, SCENARIOS, args.servers))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"config": {**vars(args), "json": str(args.json), "versions": versions()},
                   "measures": [asdict(m) for m in runner.measures]}  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"\n  JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
