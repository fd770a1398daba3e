"""The mock of this tree against the mock of another git revision, in one run: is the hot path slower than before?

    python bench/ab.py --base 441caef            # ABAB rounds of POST imagine, GET of a finished and of a live job
    python bench/ab.py --base HEAD~3 --rounds 6 --duration 4 --json bench/results/ab.json

Both servers run the mock with its defaults in memory (`bench.mock_factory`), one worker each, pinned to CPU 0
with wrk on CPU 1 (as `bench/run.py`), and each round runs every scenario on both, alternating which goes first.
The verdict is the median of the per-round ratios (new / base), so slow phases of a shared machine cancel out.
The base revision is checked out into a temporary git worktree and removed afterwards. Exit 0 when it ran
(whatever the ratios), 1 when something broke, 2 without wrk.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import INSTALL_HINT, run_wrk, write_script, wrk_path
from bench.run import BODY, FETCH, GET_HEADERS, IMAGINE, LIVE_BODY, POST_HEADERS, pick_cpus
from bench.servers import ROOT, UvicornProcess, request

SCENARIOS = {"post": "POST imagine", "get": "GET finished job", "get-live": "GET PROCESSING job"}


class TreeProcess(UvicornProcess):
    """The mock served from another checkout: its directory goes first on the import path."""

    def __init__(self, name: str, tree: Path, cpu: int | None) -> None:
        super().__init__(name, "bench.mock_factory:app", factory=True, cpu=cpu, port_env="BENCH_MOCK_PORT")
        self.tree = tree

    def command(self) -> list[str]:
        cmd = super().command()
        cmd[cmd.index("--app-dir") + 1] = str(self.tree)
        return cmd


@contextlib.contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """A temporary checkout of `revision`, with this tree's bench/ (the same load and factory on both sides)."""
    path = Path(tempfile.mkdtemp(prefix="flux-mock-ab-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), revision], check=True)
    try:
        subprocess.run(["cp", "-r", str(ROOT / "bench"), str(path)], check=True)
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", required=True, help="git revision to compare against (e.g. a commit, HEAD~3, main)")
    p.add_argument("--rounds", type=int, default=6, help="rounds; each runs every scenario on both (default 6)")
    p.add_argument("--duration", type=int, default=4, help="seconds per scenario and server per round (default 4)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    p.add_argument("--no-pin", action="store_true", help="do not pin the servers to CPU 0 and wrk to CPU 1")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write every measurement as JSON to PATH")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = wrk_path()
    if wrk is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    server_cpu, wrk_cpu, pinning = pick_cpus(args.no_pin)
    print(f"this tree vs {args.base}: {args.rounds} rounds x {args.duration} s, {pinning}", flush=True)
    scratch = Path(tempfile.mkdtemp(prefix="flux-mock-ab-lua-"))
    scripts = {
        "post": write_script(scratch / "post.lua", "POST", POST_HEADERS, BODY),
        "get": write_script(scratch / "get.lua", "GET", GET_HEADERS),
        "get-live": write_script(scratch / "get-live.lua", "GET", GET_HEADERS),
    }
    results: dict[str, dict[str, list[float]]] = {s: {"new": [], "base": []} for s in SCENARIOS}
    with worktree(args.base) as base_tree:
        procs = {"new": TreeProcess("new", ROOT, server_cpu), "base": TreeProcess("base", base_tree, server_cpu)}
        try:
            urls: dict[tuple[str, str], str] = {}
            for proc in procs.values():
                proc.start(("POST", IMAGINE, BODY, POST_HEADERS))
            for round_no in range(args.rounds):
                # Fresh jobs to poll every round (a round of POSTs can push the first ones past --max-jobs).
                for name, proc in procs.items():
                    done = request(proc.port, "POST", IMAGINE, BODY, POST_HEADERS)[1]["messageId"]
                    live = request(proc.port, "POST", IMAGINE, LIVE_BODY, POST_HEADERS)[1]["messageId"]
                    request(proc.port, "POST", "/__mock/clock/advance", '{"seconds": 60}', POST_HEADERS)
                    urls[(name, "post")] = proc.url + IMAGINE
                    urls[(name, "get")] = proc.url + FETCH.format(done)
                    urls[(name, "get-live")] = proc.url + FETCH.format(live)
                order = ("new", "base") if round_no % 2 == 0 else ("base", "new")
                for scenario in SCENARIOS:
                    for name in order:
                        got = run_wrk(
                            wrk,
                            urls[(name, scenario)],
                            scripts[scenario],
                            seconds=args.duration,
                            connections=args.connections,
                            cpu=wrk_cpu,
                        )
                        if got.non_2xx or got.socket_errors:
                            print(
                                f"{name} {scenario}: {got.non_2xx} non-2xx, {got.socket_errors} errors", file=sys.stderr
                            )
                            return 1
                        results[scenario][name].append(got.rps)
                print(f"  round {round_no + 1}/{args.rounds} done", flush=True)
        finally:
            for proc in procs.values():
                proc.stop()
    print(f"\n  {'scenario':<20} {'new req/s':>10} {'base req/s':>11} {'ratio (median of rounds)':>26}")
    summary = {}
    for scenario, label in SCENARIOS.items():
        new, base = results[scenario]["new"], results[scenario]["base"]
        ratio = statistics.median(n / b for n, b in zip(new, base, strict=True))
        summary[scenario] = {"new": new, "base": base, "ratio": ratio}
        print(f"  {label:<20} {statistics.median(new):>10,.0f} {statistics.median(base):>11,.0f} {ratio:>25.3f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"base": args.base, "scenarios": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
