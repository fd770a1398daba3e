"""What the connection limits cost: the mock with uvicorn's httptools protocol vs with flux-mock's limited one.

Same app (`bench.mock_factory`, default Settings), same uvicorn flags, same wrk load; only ``--http`` differs:
``httptools`` ("before") or ``bench.limited_http:Protocol`` ("after", what ``flux-mock serve`` runs). Rounds
alternate the order (ABBA) and the verdict is the median of the per-round after/before ratios.

    /work/main/.venv/bin/python bench/limits.py                 # 5 rounds x 5 s, POST and GET, ~110 s
    /work/main/.venv/bin/python bench/limits.py --rounds 3 --duration 3 --json bench/results/limits.json

Exit status: 0 when it ran (whatever the verdict), 1 when something broke, 2 when wrk is missing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import INSTALL_HINT, WrkResult, run_wrk, write_script, wrk_path
from bench.run import BODY, FETCH, GET_HEADERS, IMAGINE, POST_HEADERS, pick_cpus
from bench.servers import UvicornProcess

VARIANTS = {"before": "httptools", "after": "bench.limited_http:Protocol"}
MAX_DROP = 0.05  # the budget: the single-worker figure may drop by at most 5%


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/limits.py", description=__doc__)
    p.add_argument("--rounds", type=int, default=5, help="ABBA rounds (default 5)")
    p.add_argument("--duration", type=int, default=5, help="seconds per server, scenario and round (default 5)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    wrk = wrk_path()
    if wrk is None:
        print(f"wrk is not installed: {INSTALL_HINT}", file=sys.stderr)
        return 2
    server_cpu, wrk_cpu, pin_note = pick_cpus(False)
    print(f"bench/limits.py: {args.rounds} rounds x {args.duration} s; {pin_note}", flush=True)
    procs = {
        name: UvicornProcess(
            name, "bench.mock_factory:app", factory=True, cpu=server_cpu, port_env="BENCH_MOCK_PORT", http=http
        )
        for name, http in VARIANTS.items()
    }
    tmp = Path(tempfile.mkdtemp(prefix="flux-limits-"))
    scripts = {
        "post": write_script(tmp / "post.lua", "POST", POST_HEADERS, BODY),
        "get": write_script(tmp / "get.lua", "GET", GET_HEADERS),
    }
    samples: dict[tuple[str, str], list[WrkResult]] = {}
    try:
        ids = {name: proc.start(("POST", IMAGINE, BODY, POST_HEADERS))["messageId"] for name, proc in procs.items()}
        urls = {(n, "post"): procs[n].url + IMAGINE for n in VARIANTS}
        urls |= {(n, "get"): procs[n].url + FETCH.format(ids[n]) for n in VARIANTS}
        for scenario in scripts:  # warm-up, unmeasured
            for name in VARIANTS:
                run_wrk(
                    wrk, urls[name, scenario], scripts[scenario], seconds=1, connections=args.connections, cpu=wrk_cpu
                )
        for rnd in range(args.rounds):
            order = list(VARIANTS) if rnd % 2 == 0 else list(VARIANTS)[::-1]
            for scenario, script in scripts.items():
                for name in order:
                    result = run_wrk(
                        wrk,
                        urls[name, scenario],
                        script,
                        seconds=args.duration,
                        connections=args.connections,
                        cpu=wrk_cpu,
                    )
                    if result.requests == 0 or result.non_2xx:
                        raise RuntimeError(f"{name} {scenario}: {result.non_2xx} non-2xx of {result.requests}")
                    samples.setdefault((name, scenario), []).append(result)
                    print(
                        f"  round {rnd + 1} {scenario:<4} {name:<6} {result.rps:>9,.0f} req/s  "
                        f"p99 {result.p99_ms:6.2f} ms"
                    )
    except (RuntimeError, OSError) as exc:
        print(f"benchmark broke: {exc}", file=sys.stderr)
        return 1
    finally:
        for proc in procs.values():
            proc.stop()
    summary: dict[str, Any] = {}
    for scenario in scripts:
        before, after = samples["before", scenario], samples["after", scenario]
        ratios = [a.rps / b.rps for b, a in zip(before, after, strict=True)]
        ratio = statistics.median(ratios)
        summary[scenario] = {
            "before_rps_median": round(statistics.median(r.rps for r in before), 1),
            "after_rps_median": round(statistics.median(r.rps for r in after), 1),
            "before_p99_ms_median": round(statistics.median(r.p99_ms for r in before), 3),
            "after_p99_ms_median": round(statistics.median(r.p99_ms for r in after), 3),
            "ratio_per_round": [round(r, 4) for r in ratios],
            "ratio_median_of_rounds": round(ratio, 4),
            "within_budget": ratio >= 1 - MAX_DROP,
        }
        s = summary[scenario]
        print(
            f"{scenario:<4}: before {s['before_rps_median']:,.0f} req/s, after {s['after_rps_median']:,.0f} req/s; "
            f"after/before {ratio:.3f} (rounds {' '.join(f'{r:.3f}' for r in ratios)}) "
            f"{'PASS' if s['within_budget'] else 'FAIL'} (budget: >= {1 - MAX_DROP:.2f})"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, "summary": summary}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
