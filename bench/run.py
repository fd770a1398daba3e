"""Benchmark: the mock vs a bare Starlette hello-world, same load generator, one run, ratios.

Both servers run as separate uvicorn processes (1 worker, uvloop, httptools, no access log) on
127.0.0.1; wrk loads each in turn. Rounds alternate the servers (ABBA: baseline first in
rounds 1, 3, ..., mock first in rounds 2, 4, ...) so drift and neighbours' noise hit both; the report uses medians.
A separate subprocess measures the memory of 100k stored jobs (bench/memory.py).

    /work/venv/bin/python bench/run.py                 # 3 rounds x 5 s per server and scenario
    /work/venv/bin/python bench/run.py --quick         # smoke run: 1 round x 1 s
    /work/venv/bin/python bench/run.py --json bench/results/latest.json

Exit status: 0 when the benchmark ran (whatever the PASS/FAIL verdicts), 1 when something broke
(a server did not start, wrk failed, a server answered non-2xx), 2 when wrk is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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

from bench.loadgen import INSTALL_HINT, WrkResult, run_wrk, write_script, wrk_path, wrk_version
from bench.servers import ROOT, UvicornProcess, request

KEY = "sk-bench"
IMAGINE = "/api/v1/flux/imagine"
FETCH = "/api/v1/message/fetch/{}"
BODY = '{"prompt":"a red fox in the snow","n":2,"width":1024,"height":768,"output_format":"webp"}'
POST_HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {KEY}"}
GET_HEADERS = {"Authorization": f"Bearer {KEY}"}
SERVERS = ("baseline", "mock")
# "get" polls a finished job (what the target was first measured on); "get-live" polls a job that
# stays PROCESSING (a [mock:slow:3600] prompt directive), whose Message is rendered on every poll.
SCENARIOS = {
    "post": "POST imagine",
    "get": "GET progress",
    "get-live": "GET processing",
    "mj-imagine": "MJ imagine",
    "mj-button": "MJ button",
}
LIVE_BODY = BODY.replace("a red fox", "[mock:slow:3600] a red fox")

# The targets (GET's applies to both kinds of poll).
MIN_RATIO = {"post": 0.7, "get": 0.8, "get-live": 0.8, "mj-imagine": 0.7, "mj-button": 0.7}
MJ_IMAGINE = "/api/v1/nova/imagine"
MJ_BUTTON = "/api/v1/nova/button"
MJ_BODY = '{"prompt":"a lighthouse at dusk --ar 3:2"}'
MAX_P99_MS = 10.0
MAX_RSS_MB = 200.0
MEMORY_JOBS = 100_000
NOISY_SPREAD = 1.25  # a server's fastest round over its slowest beyond this: the machine was busy


@dataclass(slots=True)
class Sample:
    scenario: str
    server: str
    round: int
    result: WrkResult


@dataclass(slots=True)
class Verdict:
    target: str
    measured: str
    ok: bool | None  # None: informational

    @property
    def label(self) -> str:
        return "-" if self.ok is None else ("PASS" if self.ok else "FAIL")


@dataclass(slots=True)
class Report:
    config: dict[str, Any]
    samples: list[Sample] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    verdicts: list[Verdict] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--duration",
        type=int,
        default=5,
        metavar="SECONDS",
        help="seconds of load per server, scenario and round (whole seconds, 1..60; default 5)",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved rounds (baseline and mock alternate, ABBA order); 1..20, default 3",
    )
    p.add_argument(
        "--connections",
        type=int,
        default=32,
        help="concurrent keep-alive connections wrk holds open (1..1024; default 32, the target's)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        default=1,
        metavar="SECONDS",
        help="unmeasured seconds of load per server and scenario before round 1 (0..30; default 1)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=MEMORY_JOBS,
        help=f"jobs stored for the memory measurement (default {MEMORY_JOBS}; 0 skips it)",
    )
    p.add_argument("--no-pin", action="store_true", help="do not pin the server to CPU 0 and wrk to CPU 1 with taskset")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the full results as JSON to PATH")
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 round of 1 s, 1 s warm-up (numbers are rough; overrides --duration/--rounds)",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 1, 1, 1
    for name, low, high in (("duration", 1, 60), ("rounds", 1, 20), ("connections", 1, 1024), ("warmup", 0, 30)):
        value = getattr(args, name)
        if not low <= value <= high:
            p.error(f"--{name} is {value}; it must be from {low} to {high}")
    if args.jobs < 0 or args.jobs > 1_000_000:
        p.error(f"--jobs is {args.jobs}; it must be from 0 to 1000000")
    return args


def pick_cpus(no_pin: bool) -> tuple[int | None, int | None, str]:
    """(server CPU, wrk CPU, a sentence saying what was done)."""
    if no_pin:
        return None, None, "not pinned (--no-pin): server and wrk share all CPUs"
    if shutil.which("taskset") is None:
        return None, None, "not pinned: taskset not found (util-linux); server and wrk share all CPUs"
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None, None, f"not pinned: only CPU {allowed} available; server and wrk share it"
    server, load = (0, 1) if {0, 1} <= set(allowed) else (allowed[0], allowed[1])
    return server, load, f"pinned with taskset: servers on CPU {server}, wrk on CPU {load}"


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("starlette", "uvicorn", "uvloop", "httptools", "orjson", "flux-mock"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "-"
    return out


def measure_memory(jobs: int) -> dict[str, Any]:
    cmd = [sys.executable, str(ROOT / "bench" / "memory.py"), "--jobs", str(jobs)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"memory measurement failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_load(args: argparse.Namespace, report: Report, wrk: str) -> None:
    server_cpu, wrk_cpu, pin_note = pick_cpus(args.no_pin)
    report.notes.append(pin_note)
    tmp = Path(tempfile.mkdtemp(prefix="flux-bench-"))
    scripts = {
        "post": write_script(tmp / "post.lua", "POST", POST_HEADERS, BODY),
        "get": write_script(tmp / "get.lua", "GET", GET_HEADERS),
    }
    scripts["get-live"] = scripts["get"]
    scripts["mj-imagine"] = write_script(tmp / "mj-imagine.lua", "POST", POST_HEADERS, MJ_BODY)
    procs = {
        "baseline": UvicornProcess("baseline", "bench.baseline_app:app", cpu=server_cpu),
        "mock": UvicornProcess(
            "mock", "bench.mock_factory:app", factory=True, cpu=server_cpu, port_env="BENCH_MOCK_PORT"
        ),
    }
    probe = ("POST", IMAGINE, BODY, POST_HEADERS)
    try:
        message_ids = {name: proc.start(probe)["messageId"] for name, proc in procs.items()}
        live_ids = {name: request(proc.port, "POST", IMAGINE, LIVE_BODY, POST_HEADERS)[1]["messageId"]
                    for name, proc in procs.items()}  # fmt: skip
        grids = {name: request(proc.port, "POST", MJ_IMAGINE, MJ_BODY, POST_HEADERS)[1]["messageId"]
                 for name, proc in procs.items()}  # fmt: skip
        # Each press of V1 on a DONE grid makes a new grid job: the follow-up path, with its target lookup.
        press = '{"messageId":"%s","button":"V1"}'
        scripts["mj-button"] = write_script(tmp / "mj-button.lua", "POST", POST_HEADERS, press % grids["mock"])
        posts = {"baseline": 2, "mock": 4}
        urls = {(name, "post"): procs[name].url + IMAGINE for name in SERVERS}
        urls |= {(name, "get"): procs[name].url + FETCH.format(message_ids[name]) for name in SERVERS}
        urls |= {(name, "get-live"): procs[name].url + FETCH.format(live_ids[name]) for name in SERVERS}
        urls |= {(name, "mj-imagine"): procs[name].url + MJ_IMAGINE for name in SERVERS}
        urls |= {(name, "mj-button"): procs[name].url + MJ_BUTTON for name in SERVERS}
        wait_done(procs["mock"], grids["mock"])

        def load(name: str, scenario: str, seconds: int) -> WrkResult:
            result = run_wrk(
                wrk, urls[name, scenario], scripts[scenario], seconds=seconds, connections=args.connections, cpu=wrk_cpu
            )
            if scenario in ("post", "mj-imagine", "mj-button"):
                posts[name] += result.requests
            if result.requests == 0 or result.non_2xx:
                raise RuntimeError(
                    f"{name} {SCENARIOS[scenario]}: {result.requests} requests, "
                    f"{result.non_2xx} non-2xx answers; the numbers would be meaningless"
                )
            return result

        if args.warmup:
            for scenario in SCENARIOS:
                for name in SERVERS:
                    load(name, scenario, args.warmup)
        for rnd in range(args.rounds):
            order = SERVERS if rnd % 2 == 0 else SERVERS[::-1]
            # Fresh targets every round: past --max-jobs (100,000 by default) the mock forgets its oldest jobs, and
            # a round of POSTs makes tens of thousands. The clock jump makes the new finished job DONE at once.
            mock = procs["mock"]
            message_ids["mock"] = request(mock.port, "POST", IMAGINE, BODY, POST_HEADERS)[1]["messageId"]
            live_ids["mock"] = request(mock.port, "POST", IMAGINE, LIVE_BODY, POST_HEADERS)[1]["messageId"]
            grids["mock"] = request(mock.port, "POST", MJ_IMAGINE, MJ_BODY, POST_HEADERS)[1]["messageId"]
            request(mock.port, "POST", "/__mock/clock/advance", '{"seconds": 60}', POST_HEADERS)
            urls["mock", "get"] = mock.url + FETCH.format(message_ids["mock"])
            urls["mock", "get-live"] = mock.url + FETCH.format(live_ids["mock"])
            scripts["mj-button"] = write_script(tmp / "mj-button.lua", "POST", POST_HEADERS, press % grids["mock"])
            for scenario in SCENARIOS:
                if scenario in ("get", "get-live"):
                    ids = message_ids if scenario == "get" else live_ids
                    status = get_status(procs["mock"], ids["mock"])
                    report.config.setdefault(f"mock_job_status_during_{scenario}", []).append(status)
                for name in order:
                    result = load(name, scenario, args.duration)
                    report.samples.append(Sample(scenario, name, rnd + 1, result))
                    print(
                        f"  round {rnd + 1}/{args.rounds}  {SCENARIOS[scenario]:<13} {name:<8} "
                        f"{result.rps:>9,.0f} req/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
                        + (f"  socket errors {result.socket_errors}" if result.socket_errors else ""),
                        flush=True,
                    )
        rss = procs["mock"].rss_mb()
        if rss is not None:
            report.summary["mock_server_rss_mb"] = round(rss, 1)
            report.summary["mock_server_jobs"] = posts["mock"]
    finally:
        for proc in procs.values():
            proc.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def wait_done(proc: UvicornProcess, message_id: str, limit_s: float = 30.0) -> None:
    """Wait (bounded) until a job is DONE: the button scenario presses a button of a finished grid."""
    deadline = time.monotonic() + limit_s
    while get_status(proc, message_id) != "DONE":
        if time.monotonic() > deadline:
            raise RuntimeError(f"the grid {message_id} was not DONE within {limit_s:g} s")
        time.sleep(0.2)


def get_status(proc: UvicornProcess, message_id: str) -> str:
    status, body = request(proc.port, "GET", FETCH.format(message_id), headers=GET_HEADERS)
    return str(body.get("status")) if status == 200 and isinstance(body, dict) else f"HTTP {status}"


def summarise(args: argparse.Namespace, report: Report) -> None:
    for scenario, title in SCENARIOS.items():
        by: dict[str, list[WrkResult]] = {
            name: [s.result for s in report.samples if s.scenario == scenario and s.server == name] for name in SERVERS
        }
        ratios = [m.rps / b.rps for b, m in zip(by["baseline"], by["mock"], strict=True) if b.rps > 0]
        med = {name: statistics.median(r.rps for r in results) for name, results in by.items()}
        entry: dict[str, Any] = {
            name: {
                "rps_median": round(med[name], 1),
                "rps_rounds": [round(r.rps, 1) for r in results],
                "p50_ms_median": round(statistics.median(r.p50_ms for r in results), 3),
                "p99_ms_median": round(statistics.median(r.p99_ms for r in results), 3),
                "p99_ms_worst": round(max(r.p99_ms for r in results), 3),
                "socket_errors": sum(r.socket_errors for r in results),
            }
            for name, results in by.items()
        }
        ratio_rounds = statistics.median(ratios)
        ratio_medians = med["mock"] / med["baseline"]
        # Unrounded, so the table, the verdict and the JSON agree to the last digit shown.
        entry["ratio_per_round"] = ratios
        entry["ratio_median_of_rounds"] = ratio_rounds
        entry["ratio_of_medians"] = ratio_medians
        report.summary[scenario] = entry
        for name, results in by.items():
            rates = [r.rps for r in results]
            if len(rates) > 1 and min(rates) > 0 and max(rates) / min(rates) > NOISY_SPREAD:
                report.warnings.append(
                    f"{title} {name}: rounds range {min(rates):,.0f}..{max(rates):,.0f} req/s "
                    f"({max(rates) / min(rates):.2f}x); the machine was busy, rerun or add --rounds"
                )
        target = MIN_RATIO[scenario]
        report.verdicts.append(
            Verdict(
                f"{title}: mock >= {target:.2f}x baseline req/s",
                f"{ratio_rounds:.2f}x (ratio of medians {ratio_medians:.2f}x)",
                ratio_rounds >= target,
            )
        )
        p99: float = entry["mock"]["p99_ms_median"]
        report.verdicts.append(
            Verdict(
                f"{title}: mock p99 < {MAX_P99_MS:g} ms at {args.connections} conn",
                f"{p99:.2f} ms (worst round {entry['mock']['p99_ms_worst']:.2f} ms)",
                p99 < MAX_P99_MS if args.connections == 32 else None,
            )
        )
    if report.memory:
        mem = report.memory
        total = mem["rss_after_jobs_mb"]
        report.verdicts.append(
            Verdict(
                f"{mem['jobs']:,} stored jobs < {MAX_RSS_MB:g} MB RSS",
                f"{total:.1f} MB total (+{mem['jobs_delta_mb']:.1f} MB for jobs, {mem['bytes_per_job']} B/job)",
                total < MAX_RSS_MB if mem["jobs"] == MEMORY_JOBS else None,
            )
        )
        report.verdicts.append(
            Verdict(
                f"journal at its default size ({mem['journal_entries']:,} entries)",
                f"+{mem['journal_delta_mb']:.1f} MB (process then {mem['rss_total_mb']:.1f} MB)",
                None,
            )
        )


def render(report: Report) -> str:
    lines = ["", "flux-mock benchmark: mock vs bare Starlette (same wrk, same run; medians over rounds)"]
    cfg = report.config
    lines.append(
        f"  {cfg['rounds']} round(s) x {cfg['duration']} s, {cfg['connections']} connections, "
        f"warm-up {cfg['warmup']} s; {cfg['cpus']} CPUs; load average {cfg['loadavg_before']} -> "
        f"{cfg.get('loadavg_after', '?')}"
    )
    lines += [f"  {note}" for note in report.notes]
    if report.samples:
        header = f"  {'scenario':<13} {'server':<8} {'req/s median':>12}  {'per round':<26} {'p50 ms':>7} {'p99 ms':>7}"
        lines += ["", header, "  " + "-" * (len(header) - 2)]
        for scenario, title in SCENARIOS.items():
            entry = report.summary[scenario]
            for name in SERVERS:
                e = entry[name]
                rounds = " ".join(f"{r / 1000:.1f}k" for r in e["rps_rounds"])
                lines.append(
                    f"  {title if name == 'baseline' else '':<13} {name:<8} {e['rps_median']:>12,.0f}  "
                    f"{rounds:<26} {e['p50_ms_median']:>7.2f} {e['p99_ms_median']:>7.2f}"
                )
            per_round = " ".join(f"{r:.2f}" for r in entry["ratio_per_round"])
            lines.append(
                f"  {'':<13} {'ratio':<8} {entry['ratio_median_of_rounds']:>11.2f}x  {per_round:<26} "
                f"(ratio of medians {entry['ratio_of_medians']:.2f}x)"
            )
        if "mock_server_rss_mb" in report.summary:
            lines.append(
                f"  mock server RSS after the run: {report.summary['mock_server_rss_mb']:.1f} MB "
                f"holding {report.summary['mock_server_jobs']:,} jobs"
            )
        for scenario in ("get", "get-live"):
            statuses = cfg.get(f"mock_job_status_during_{scenario}")
            if statuses:
                lines.append(
                    f"  {SCENARIOS[scenario]} fetched a job in status {'/'.join(sorted(set(statuses)))} "
                    "(mock; the baseline answers a constant PROCESSING message)"
                )
    if report.warnings:
        lines += ["", "  NOISE WARNING (compare ratios with care):"] + [f"    {w}" for w in report.warnings]
    if report.verdicts:
        width = max(len(v.target) for v in report.verdicts)
        header = f"  {'target':<{width}}  {'measured':<58} result"
        lines += ["", header, "  " + "-" * (len(header) - 2)]
        lines += [f"  {v.target:<{width}}  {v.measured:<58} {v.label}" for v in report.verdicts]
    return "\n".join(lines)


def to_json(report: Report) -> dict[str, Any]:
    return {
        "config": report.config,
        "notes": report.notes,
        "warnings": report.warnings,
        "samples": [
            {"scenario": s.scenario, "server": s.server, "round": s.round, **s.result.as_dict()} for s in report.samples
        ],
        "summary": report.summary,
        "memory": report.memory,
        "targets": [{"target": v.target, "measured": v.measured, "result": v.label} for v in report.verdicts],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = wrk_path()
    if wrk is None:
        print(
            f"wrk (the load generator) is not installed. Install it with:\n    {INSTALL_HINT}\n"
            "(run `apt-get update` first if apt cannot find it), then run this again.",
            file=sys.stderr,
        )
        return 2
    report = Report(
        config={
            "duration": args.duration,
            "rounds": args.rounds,
            "connections": args.connections,
            "warmup": args.warmup,
            "cpus": os.cpu_count(),
            "loadavg_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "wrk": wrk_version(wrk),
            "versions": versions(),
            "body": BODY,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
    )
    print(
        f"flux-mock bench: {args.rounds} round(s) x {args.duration} s x {len(SCENARIOS)} scenarios x 2 servers "
        f"(~{(args.rounds * args.duration + args.warmup) * 4 + 5} s)",
        flush=True,
    )
    try:
        run_load(args, report, wrk)
        if args.jobs:
            print(f"  memory: storing {args.jobs:,} jobs in a fresh process ...", flush=True)
            report.memory = measure_memory(args.jobs)
    except KeyboardInterrupt:
        print("interrupted; servers stopped", file=sys.stderr)
        return 130
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError, KeyError) as exc:
        print(f"benchmark broke: {exc}", file=sys.stderr)
        return 1
    report.config["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    summarise(args, report)
    print(render(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(to_json(report), indent=2) + "\n", encoding="utf-8")
        print(f"\n  JSON written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
