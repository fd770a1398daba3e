"""Issue 12's benchmark: does the mock on Redis with 2 workers beat the in-memory mock with 1? Same run, ratios.

Five servers on 127.0.0.1, each loaded by the same wrk (1 thread, 32 connections):

    baseline-1w  bench/baseline_app.py, 1 uvicorn worker        (what routing + JSON costs)
    baseline-2w  the same with --workers 2                      (what a second worker can give on this machine)
    memory-1w    flux-mock serve (defaults: in memory, 1 worker)
    redis-1w     flux-mock serve --store redis://127.0.0.1:P/0 --workers 1
    redis-2w     flux-mock serve --store redis://127.0.0.1:P/0 --workers 2

A private redis-server (no persistence) runs on a free loopback port for the whole run and is FLUSHALLed before
each Redis server starts. Each round starts every server in turn (baseline-1w, baseline-2w, redis-1w,
memory-1w, redis-2w: the two servers of each ratio run back to back; the order reverses every other round, so
drift hits all), runs the scenarios of bench/run.py (POST imagine, GET of a PROCESSING job, GET of a DONE job)
after a warm-up, and stops it: every server starts each round with an empty store. Nothing is pinned: the
2-worker servers need both CPUs, which they share with wrk and Redis.

    /work/main/.venv/bin/python bench/fleet.py              # 4 rounds x 3 s, ~5 min
    /work/main/.venv/bin/python bench/fleet.py --quick      # smoke run, ~50 s
    /work/main/.venv/bin/python bench/fleet.py --servers baseline-1w,memory-1w,redis-2w --json out.json

Exit status: 0 when the benchmark ran (whatever the PASS/MISS verdicts), 1 when something broke (a server
did not start, answered non-2xx, lost a job between workers), 2 when wrk is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fleet_servers import (
    REDIS_ARGS,
    BaselineServer,
    MockServer,
    RedisServer,
    TreeMixin,
    redis_delta,
    redis_errors,
    serve_flags,
)
from bench.loadgen import INSTALL_HINT, WrkResult, run_wrk, write_script, wrk_path, wrk_version
from bench.run import (
    BODY,
    FETCH,
    GET_HEADERS,
    IMAGINE,
    LIVE_BODY,
    MAX_P99_MS,
    POST_HEADERS,
    SCENARIOS,
    get_status,
    versions,
    wait_done,
)
from bench.servers import request

SERVERS = ("baseline-1w", "baseline-2w", "memory-1w", "redis-1w", "redis-2w")
MOCKS = ("memory-1w", "redis-1w", "redis-2w")
# The order servers run in a round (reversed every other round): each ratio's two servers run back to back.
RUN_ORDER = ("baseline-1w", "baseline-2w", "redis-1w", "memory-1w", "redis-2w")
# Run in this order on each server: the DONE job, created at start-up, finishes (3 s) while the others run.
FLEET_SCENARIOS = ("post", "get-live", "get")
# (numerator, denominator, {scenario: target ratio} or None when informational)
RATIOS: tuple[tuple[str, str, dict[str, float] | None], ...] = (
    ("redis-2w", "memory-1w", {"post": 1.0, "get": 1.3, "get-live": 1.3}),
    ("redis-1w", "memory-1w", None),
    ("baseline-2w", "baseline-1w", None),
)
CONSISTENCY_GETS = 12  # fresh connections fetching the start-up job: every worker must know it
NOISY_SPREAD = 1.25


@dataclass(slots=True)
class Sample:
    server: str
    scenario: str
    round: int
    result: WrkResult
    cpu_us_per_req: float  # the server's process tree (supervisor + workers)
    wrk_cpu_us_per_req: float
    redis: dict[str, Any] | None = None


@dataclass(slots=True)
class Report:
    config: dict[str, Any]
    samples: list[Sample] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    verdicts: list[tuple[str, str, bool | None]] = field(default_factory=list)  # target, measured, ok (None: info)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ends: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # per server: RSS etc. when stopped


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/fleet.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--duration", type=int, default=3, metavar="SECONDS", help="seconds per round (1..60; default 3)")
    p.add_argument("--rounds", type=int, default=4, help="interleaved rounds (1..20; default 4)")
    p.add_argument(
        "--warmup", type=int, default=1, metavar="SECONDS", help="unmeasured seconds per scenario (0..30; default 1)"
    )
    p.add_argument("--connections", type=int, default=32, help="wrk connections (1..1024; default 32, the target's)")
    p.add_argument(
        "--servers",
        default=",".join(SERVERS),
        metavar="LIST",
        help=f"comma-separated servers to run (default all: {','.join(SERVERS)})",
    )
    p.add_argument(
        "--redis-args",
        default=REDIS_ARGS,
        metavar="TEMPLATE",
        help=f"flags giving the mock Redis and workers; {{url}} {{workers}} are filled in (default '{REDIS_ARGS}')",
    )
    p.add_argument("--redis-server", default="redis-server", metavar="PATH", help="redis-server binary")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the full results as JSON to PATH")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round x 1 s, 1 s warm-up (~50 s)")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 1, 1, 1
    for name, low, high in (("duration", 1, 60), ("rounds", 1, 20), ("connections", 1, 1024), ("warmup", 0, 30)):
        if not low <= getattr(args, name) <= high:
            p.error(f"--{name} is {getattr(args, name)}; it must be from {low} to {high}")
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = sorted(set(args.servers) - set(SERVERS))
    if unknown or not args.servers:
        p.error(f"--servers: unknown {', '.join(unknown) or '(none given)'}; choose from {', '.join(SERVERS)}")
    args.servers = [s for s in SERVERS if s in args.servers]
    return args


def make_server(name: str, args: argparse.Namespace, redis: RedisServer | None) -> TreeMixin:
    workers = int(name[-2])
    if name.startswith("baseline"):
        return BaselineServer(name, workers)
    if name.startswith("redis"):
        assert redis is not None
        return MockServer(name, args.redis_args.format(url=redis.url, workers=workers).split())
    return MockServer(name, [])


class Bench:
    """One server run: start, check, load every scenario, stop."""

    def __init__(self, args: argparse.Namespace, report: Report, wrk: str, redis: RedisServer | None) -> None:
        self.args, self.report, self.wrk, self.redis = args, report, wrk, redis
        self.tmp = Path(tempfile.mkdtemp(prefix="flux-fleet-"))
        self.post_script = write_script(self.tmp / "post.lua", "POST", POST_HEADERS, BODY)
        self.get_script = write_script(self.tmp / "get.lua", "GET", GET_HEADERS)
        self.wrk_cpu_us_per_req = 0.0  # of the last load()

    def run_server(self, name: str, rnd: int) -> None:
        redis = self.redis if name.startswith("redis") else None
        if redis is not None:
            redis.flushall()
        server = make_server(name, self.args, redis)
        try:
            done_id = server.start(("POST", IMAGINE, BODY, POST_HEADERS))["messageId"]
            live_id = request(server.port, "POST", IMAGINE, LIVE_BODY, POST_HEADERS)[1]["messageId"]
            if name in MOCKS:
                self.check_consistency(server, name, (done_id, live_id))
            urls = {"post": IMAGINE, "get-live": FETCH.format(live_id), "get": FETCH.format(done_id)}
            for scenario in FLEET_SCENARIOS:
                script = self.post_script if scenario == "post" else self.get_script
                if self.args.warmup:
                    self.load(server, scenario, server.url + urls[scenario], script, self.args.warmup)
                if name in MOCKS and scenario != "post":
                    if scenario == "get":
                        wait_done(server, done_id)
                    status = get_status(server, done_id if scenario == "get" else live_id)
                    self.report.config.setdefault(f"status_during_{scenario}", {}).setdefault(name, []).append(status)
                before_cpu = server.tree_cpu_s()
                before_redis = redis.snapshot() if redis else None
                result = self.load(server, scenario, server.url + urls[scenario], script, self.args.duration)
                cpu = (server.tree_cpu_s() - before_cpu) * 1e6 / max(result.requests, 1)
                rstats = (
                    redis_delta(before_redis, redis.snapshot(), result.requests) if redis and before_redis else None
                )
                self.report.samples.append(Sample(name, scenario, rnd, result, cpu, self.wrk_cpu_us_per_req, rstats))
                extra = f"  redis {rstats['cpu_us_per_req']:5.1f} µs/req" if rstats else ""
                print(
                    f"  round {rnd}/{self.args.rounds}  {name:<11} {SCENARIOS[scenario]:<14} {result.rps:>8,.0f} req/s"
                    f"  p50 {result.p50_ms:6.2f}  p99 {result.p99_ms:6.2f} ms  cpu {cpu:5.1f} µs/req{extra}",
                    flush=True,
                )
            end: dict[str, Any] = {
                "round": rnd,
                "rss_mb": round(server.tree_rss_mb(), 1),
                "processes": len(server.pids()),
            }
            if redis is not None:
                end |= {"redis_used_memory_mb": round(redis.used_memory_mb(), 1), "redis_keys": redis.keys()}
            self.report.ends.setdefault(name, []).append(end)
        finally:
            server.stop()

    def check_consistency(self, server: TreeMixin, name: str, ids: tuple[str, ...]) -> None:
        """Every fresh connection (any worker) must find the jobs just created: a store shared by the workers."""
        for i in range(CONSISTENCY_GETS):
            message_id = ids[i % len(ids)]
            status, body = request(server.port, "GET", FETCH.format(message_id), headers=GET_HEADERS)
            if status != 200:
                raise RuntimeError(f"{name}: GET of job {message_id} just created answered {status}: {body}")

    def load(self, server: TreeMixin, scenario: str, url: str, script: Path, seconds: int) -> WrkResult:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = run_wrk(self.wrk, url, script, seconds=seconds, connections=self.args.connections)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk was reaped: its CPU is in the children's
        spent = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        self.wrk_cpu_us_per_req = spent * 1e6 / max(result.requests, 1)
        if result.requests == 0 or result.non_2xx:
            raise RuntimeError(
                f"{server.name} {SCENARIOS[scenario]}: {result.requests} requests, {result.non_2xx} non-2xx "
                f"answers; the numbers would be meaningless\n{server.output()}"
            )
        return result


def run_fleet(args: argparse.Namespace, report: Report, wrk: str) -> None:
    redis: RedisServer | None = None
    if any(s.startswith("redis") for s in args.servers):
        redis = RedisServer(args.redis_server)
        redis.start()
        report.config["redis_version"] = redis.version()
    bench = Bench(args, report, wrk, redis)
    try:
        for rnd in range(1, args.rounds + 1):
            run = [name for name in RUN_ORDER if name in args.servers]
            order = run if rnd % 2 else run[::-1]
            for name in order:
                bench.run_server(name, rnd)
    finally:
        if redis is not None:
            redis.stop()
        shutil.rmtree(bench.tmp, ignore_errors=True)


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarise(args: argparse.Namespace, report: Report) -> None:
    for scenario in FLEET_SCENARIOS:
        entry: dict[str, Any] = {}
        for name in args.servers:
            got = [s for s in report.samples if s.server == name and s.scenario == scenario]
            rates = [s.result.rps for s in got]
            e: dict[str, Any] = {
                "rps_median": med(rates),
                "rps_rounds": rates,
                "p50_ms_median": med([s.result.p50_ms for s in got]),
                "p99_ms_median": med([s.result.p99_ms for s in got]),
                "p99_ms_worst": max(s.result.p99_ms for s in got),
                "server_cpu_us_per_req": med([s.cpu_us_per_req for s in got]),
                "wrk_cpu_us_per_req": med([s.wrk_cpu_us_per_req for s in got]),
            }
            if got and got[0].redis is not None:
                for key in ("cpu_us_per_req", "commands_per_req", "round_trips_per_req"):
                    vals = [s.redis[key] for s in got if s.redis and s.redis[key] is not None]
                    e[f"redis_{key}"] = med(vals)
                e["redis_commands"] = got[-1].redis["commands"] if got[-1].redis else {}
            entry[name] = e
            if len(rates) > 1 and min(rates) > 0 and max(rates) / min(rates) > NOISY_SPREAD:
                report.warnings.append(
                    f"{SCENARIOS[scenario]} {name}: rounds range {min(rates):,.0f}..{max(rates):,.0f} req/s "
                    f"({max(rates) / min(rates):.2f}x); the machine was busy, rerun or add --rounds"
                )
        for num, den, targets in RATIOS:
            if num not in entry or den not in entry:
                continue
            pairs = zip(entry[num]["rps_rounds"], entry[den]["rps_rounds"], strict=True)
            per_round = [a / b for a, b in pairs if b > 0]
            ratio = med(per_round)
            of_medians = entry[num]["rps_median"] / entry[den]["rps_median"]
            entry[f"{num}/{den}"] = {"per_round": per_round, "median_of_rounds": ratio, "of_medians": of_medians}
            target = targets.get(scenario) if targets else None
            report.verdicts.append(
                (
                    f"{SCENARIOS[scenario]}: {num} / {den} req/s" + (f" >= {target:.2f}x" if target else ""),
                    f"{ratio:.2f}x (ratio of medians {of_medians:.2f}x)",
                    ratio >= target if target else None,
                )
            )
        for name in MOCKS:
            if name in entry:
                p99 = entry[name]["p99_ms_median"]
                report.verdicts.append(
                    (
                        f"{SCENARIOS[scenario]}: {name} p99 < {MAX_P99_MS:g} ms at {args.connections} conn",
                        f"{p99:.2f} ms (worst round {entry[name]['p99_ms_worst']:.2f} ms)",
                        p99 < MAX_P99_MS if args.connections == 32 else None,
                    )
                )
        report.summary[scenario] = entry


def label(ok: bool | None) -> str:
    return "-" if ok is None else "PASS" if ok else "MISS"


def render(args: argparse.Namespace, report: Report) -> str:
    cfg = report.config
    lines = ["", "flux-mock fleet benchmark (issue 12): same wrk, same run; medians over rounds"]
    lines.append(
        f"  {cfg['rounds']} round(s) x {cfg['duration']} s, {cfg['connections']} connections, warm-up "
        f"{cfg['warmup']} s; {cfg['cpus']} CPUs; load average {cfg['loadavg_before']} -> {cfg.get('loadavg_after')}"
    )
    lines += [f"  {note}" for note in report.notes]
    header = (
        f"  {'scenario':<14} {'server':<11} {'req/s':>8}  {'per round':<20} {'p50 ms':>6} {'p99 ms':>7}"
        f" {'cpu µs/req':>10} {'wrk µs':>6} {'redis µs/req':>12} {'cmds/req':>8} {'rtt/req':>7}"
    )
    lines += ["", header, "  " + "-" * (len(header) - 2)]
    for scenario in FLEET_SCENARIOS:
        entry = report.summary[scenario]
        for i, name in enumerate(args.servers):
            e = entry[name]
            rounds = " ".join(f"{r / 1000:.1f}k" for r in e["rps_rounds"])
            redis = ""
            if "redis_cpu_us_per_req" in e:
                rtt = e["redis_round_trips_per_req"]
                redis = f" {e['redis_cpu_us_per_req']:>12.1f} {e['redis_commands_per_req']:>8.2f} {rtt:>7.2f}"
            lines.append(
                f"  {SCENARIOS[scenario] if i == 0 else '':<14} {name:<11} {e['rps_median']:>8,.0f}  {rounds:<20} "
                f"{e['p50_ms_median']:>6.2f} {e['p99_ms_median']:>7.2f} {e['server_cpu_us_per_req']:>10.1f} "
                f"{e['wrk_cpu_us_per_req']:>6.1f}{redis}"
            )
        for num, den, _targets in RATIOS:
            if f"{num}/{den}" in entry:
                r = entry[f"{num}/{den}"]
                per_round = " ".join(f"{x:.2f}" for x in r["per_round"])
                lines.append(
                    f"  {'':<14} {'ratio':<11} {r['median_of_rounds']:>7.2f}x  {num} / {den} (rounds {per_round})"
                )
        for name in args.servers:
            if entry[name].get("redis_commands"):
                top = ", ".join(f"{cmd} {n:g}" for cmd, n in entry[name]["redis_commands"].items())
                lines.append(f"  {'':<14} {name:<11} Redis commands per request (last round): {top}")
    for name, ends in report.ends.items():
        last = ends[-1]
        extra = ""
        if "redis_used_memory_mb" in last:
            extra = f"; Redis then {last['redis_used_memory_mb']:.1f} MB used, {last['redis_keys']:,} keys"
        lines.append(f"  {name}: {last['processes']} process(es), {last['rss_mb']:.1f} MB RSS when stopped{extra}")
    for scenario in ("get-live", "get"):
        for name, statuses in cfg.get(f"status_during_{scenario}", {}).items():
            lines.append(f"  {SCENARIOS[scenario]} on {name} fetched a job in status {'/'.join(sorted(set(statuses)))}")
    if report.warnings:
        lines += ["", "  NOISE WARNING (compare ratios with care):"] + [f"    {w}" for w in report.warnings]
    if report.verdicts:
        width = max(len(v[0]) for v in report.verdicts)
        header = f"  {'target':<{width}}  {'measured':<46} result"
        lines += ["", header, "  " + "-" * (len(header) - 2)]
        for target, measured, ok in report.verdicts:
            lines.append(f"  {target:<{width}}  {measured:<46} {label(ok)}")
    return "\n".join(lines)


def to_json(report: Report) -> dict[str, Any]:
    return {
        "config": report.config,
        "notes": report.notes,
        "warnings": report.warnings,
        "samples": [
            {"server": s.server, "scenario": s.scenario, "round": s.round, "cpu_us_per_req": s.cpu_us_per_req}
            | {"wrk_cpu_us_per_req": s.wrk_cpu_us_per_req}
            | s.result.as_dict()
            | ({"redis": s.redis} if s.redis else {})
            for s in report.samples
        ],
        "summary": report.summary,
        "servers_at_stop": report.ends,
        "targets": [{"target": t, "measured": m, "result": label(ok)} for t, m, ok in report.verdicts],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = wrk_path()
    if wrk is None:
        print(f"wrk (the load generator) is not installed: {INSTALL_HINT} (apt-get update first)", file=sys.stderr)
        return 2
    wants_redis = [s for s in args.servers if s.startswith("redis")]
    flag = args.redis_args.split()[0] if args.redis_args.split() else ""
    if wants_redis and flag and flag not in serve_flags():
        print(
            f"this checkout's `flux-mock serve` has no {flag} flag (Redis mode not merged?); run the others with "
            f"--servers {','.join(s for s in args.servers if s not in wants_redis)}",
            file=sys.stderr,
        )
        return 1
    report = Report(
        config={
            "duration": args.duration,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "connections": args.connections,
            "servers": args.servers,
            "redis_args": args.redis_args,
            "cpus": os.cpu_count(),
            "loadavg_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "wrk": wrk_version(wrk),
            "versions": versions() | {"redis-py": _version("redis")},
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    )
    report.notes.append(
        f"not pinned: the 2-worker servers need both of the {os.cpu_count()} CPUs, shared with wrk (1 thread) "
        "and redis-server"
    )
    per_server = len(FLEET_SCENARIOS) * (args.duration + args.warmup) + 2
    print(
        f"flux-mock fleet bench: {args.rounds} round(s) x {len(args.servers)} servers x {len(FLEET_SCENARIOS)} "
        f"scenarios (~{args.rounds * len(args.servers) * per_server} s)",
        flush=True,
    )
    broke: tuple[type[BaseException], ...] = (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError)
    try:
        run_fleet(args, report, wrk)
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    except (*broke, *redis_errors()) as exc:
        print(f"benchmark broke: {exc}", file=sys.stderr)
        return 1
    report.config["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    summarise(args, report)
    print(render(args, report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(report), indent=2) + "\n", encoding="utf-8")
        print(f"\n  JSON written to {args.json}")
    return 0


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


if __name__ == "__main__":
    sys.exit(main())
