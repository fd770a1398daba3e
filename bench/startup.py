"""How fast does flux-mock start? Medians of one run, against bare Starlette started the same way.

    python bench/startup.py              # 5 rounds (about a minute)
    python bench/startup.py --rounds 9
    python bench/startup.py --bytecode none   # every module compiled from source at each start

Measured, each round in alternating order (ABBA) so a busy neighbour hits both sides:
- first answer: `python -m mock_server serve --port P` vs `python -m uvicorn bench.baseline_app:app --port P`
  (same interpreter, uvloop and httptools), from spawn to the first HTTP answer; target: mock <= 2x baseline;
- the same first answer with an empty contract cache (the first start after openapi.yaml changed), no target;
- `flux-mock --help` (`python -m mock_server --help`), spawn to exit; target < 0.5 s;
- `serve --workers 2 --store redis://...` (a throw-away redis-server on a free port), spawn to the first
  answer; target <= 3 s.

Every command runs as an installed package runs: its bytecode compiled once (into a throw-away
PYTHONPYCACHEPREFIX, whatever PYTHONDONTWRITEBYTECODE says) and the contract cache (XDG_CACHE_HOME, also
throw-away) filled, both by one unmeasured warm-up of each command. `--bytecode none` leaves compiled bytecode
out instead (PYTHONDONTWRITEBYTECODE=1, as in a source checkout that may not write it): then every start
compiles the mock's ~200 modules, which the baseline's one module hardly pays.

Each figure comes with the CPU time (user + system) the command's processes used until then, which a busy
neighbour moves much less than wall time. A report, not a test: exit status 0 whatever the verdicts; 1 when
something did not start.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
START_LIMIT_S = 60.0
ENV = dict(os.environ)  # what every measured command runs with (set by `main`)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer counts
    except OSError:
        return False


# (wall seconds, CPU seconds): CPU moves far less than wall time with a busy neighbour.
Sample = tuple[float, float]
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def group_cpu(group: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of process group `group` (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[2]) == group:  # fields after the command name: state, ppid, pgrp, ...; utime and stime
            total += int(fields[11]) + int(fields[12])
    return total * TICK_S


def first_answer(command: Sequence[str], url: str) -> Sample:
    """From spawning `command` to the first HTTP answer at `url`: wall time and the CPU its processes used."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while not answers(url):
            if proc.poll() is not None:
                raise SystemExit(f"{' '.join(command)} exited with {proc.returncode} before answering")
            if time.perf_counter() - started > START_LIMIT_S:
                raise SystemExit(f"{' '.join(command)} did not answer within {START_LIMIT_S} s")
            time.sleep(0.005)
        return time.perf_counter() - started, group_cpu(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def run_to_exit(command: Sequence[str]) -> Sample:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        command, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60
    )
    wall = time.perf_counter() - started
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (now.ru_utime + now.ru_stime) - (used.ru_utime + used.ru_stime)


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found: apt-get install -y redis-server")
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start")
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def mock_serve(*extra: str) -> Callable[[], Sample]:
    def measure() -> Sample:
        port = free_port()
        command = [PY, "-m", "mock_server", "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
        return first_answer(command, f"http://127.0.0.1:{port}/__mock/health")

    return measure


def cold_contract_cache(measure: Callable[[], Sample], scratch: Path) -> Callable[[], Sample]:
    """`measure` with an empty contract cache: openapi.yaml parsed and its validators compiled during the start."""

    def cold() -> Sample:
        with tempfile.TemporaryDirectory(dir=scratch) as empty:
            saved, ENV["XDG_CACHE_HOME"] = ENV["XDG_CACHE_HOME"], empty
            try:
                return measure()
            finally:
                ENV["XDG_CACHE_HOME"] = saved

    return cold


def bare_starlette() -> Sample:
    port = free_port()
    command = [PY, "-m", "uvicorn", "bench.baseline_app:app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    return first_answer(command, f"http://127.0.0.1:{port}/api/v1/message/fetch/x")


def set_environment(scratch: Path, bytecode: str) -> None:
    """Throw-away caches for the measured commands, so the run neither uses nor leaves anything in the user's."""
    ENV["XDG_CACHE_HOME"] = str(scratch / "cache")
    if bytecode == "cached":
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    else:
        ENV["PYTHONDONTWRITEBYTECODE"] = "1"
        ENV.pop("PYTHONPYCACHEPREFIX", None)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement (default 5)")
    parser.add_argument(
        "--bytecode", choices=("cached", "none"), default="cached", help="cached (default, as installed) or none"
    )
    args = parser.parse_args()
    samples: dict[str, list[Sample]] = {"baseline": [], "serve": [], "cold": [], "help": [], "fleet": []}
    with tempfile.TemporaryDirectory(prefix="flux-mock-startup-") as scratch_dir, redis_server() as store:
        scratch = Path(scratch_dir)
        set_environment(scratch, args.bytecode)
        fleet = mock_serve("--workers", "2", "--store", store)
        serve = mock_serve()
        for warm_up in (bare_starlette, serve, fleet):  # bytecode and the contract cache written; not measured
            warm_up()
        cold = cold_contract_cache(serve, scratch)
        for round_ in range(args.rounds):
            pair: list[tuple[str, Callable[[], Sample]]] = [("baseline", bare_starlette), ("serve", serve)]
            for name, measure in pair if round_ % 2 == 0 else pair[::-1]:
                samples[name].append(measure())
            samples["cold"].append(cold())
            samples["help"].append(run_to_exit([PY, "-m", "mock_server", "--help"]))
            samples["fleet"].append(fleet())
    report(samples, args.rounds, args.bytecode)


def report(samples: dict[str, list[Sample]], rounds: int, bytecode: str) -> None:
    """Medians of wall time (what the targets are about) and of CPU time (what a busy machine moves least)."""
    wall = {name: statistics.median(w for w, _ in values) for name, values in samples.items()}
    cpu = {name: statistics.median(c for _, c in values) for name, values in samples.items()}
    ratio, cold_ratio = wall["serve"] / wall["baseline"], wall["cold"] / wall["baseline"]
    print(f"flux-mock start-up, medians of {rounds} rounds (cpus: {os.cpu_count()}; bytecode: {bytecode})")
    print("                                      wall          CPU")
    print(f"  bare Starlette first answer        {wall['baseline']:6.2f} s    {cpu['baseline']:6.2f} s")
    print(
        f"  flux-mock serve first answer       {wall['serve']:6.2f} s    {cpu['serve']:6.2f} s   "
        f"{ratio:.2f}x baseline (<= 2x: {verdict(ratio <= 2)}; CPU {cpu['serve'] / cpu['baseline']:.2f}x)"
    )
    print(
        f"    with an empty contract cache     {wall['cold']:6.2f} s    {cpu['cold']:6.2f} s   "
        f"{cold_ratio:.2f}x baseline (no target; CPU {cpu['cold'] / cpu['baseline']:.2f}x)"
    )
    print(
        f"  flux-mock --help                   {wall['help']:6.2f} s    {cpu['help']:6.2f} s   "
        f"(< 0.5 s: {verdict(wall['help'] < 0.5)})"
    )
    print(
        f"  serve --workers 2 --store redis    {wall['fleet']:6.2f} s    {cpu['fleet']:6.2f} s   "
        f"(<= 3 s: {verdict(wall['fleet'] <= 3)}; CPU of all its processes)"
    )
    print("  wall time of each round:")
    for name, values in samples.items():
        print(f"    {name:9s} " + " ".join(f"{w:.2f}" for w, _ in values))


if __name__ == "__main__":
    main()
