"""How fast does flux-mock start? Medians of one run, against bare Starlette started the same way.

    python bench/startup.py              # 5 rounds (about a minute)
    python bench/startup.py --rounds 9

Measured, each round in alternating order (ABBA) so a busy neighbour hits both sides:
- first answer: `python -m mock_server serve --port P` vs `python -m uvicorn bench.baseline_app:app --port P`
  (same interpreter, uvloop and httptools), from spawn to the first HTTP answer; target: mock <= 2x baseline;
- `flux-mock --help` (`python -m mock_server --help`), spawn to exit; target < 0.5 s;
- `serve --workers 2 --store redis://...` (a throw-away redis-server on a free port), spawn to the first
  answer; target <= 3 s.

A report, not a test: exit status 0 whatever the verdicts; 1 when something did not start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
START_LIMIT_S = 60.0


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


def first_answer(command: Sequence[str], url: str) -> float:
    """Seconds from spawning `command` to the first HTTP answer at `url`; the process group is then stopped."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while not answers(url):
            if proc.poll() is not None:
                raise SystemExit(f"{' '.join(command)} exited with {proc.returncode} before answering")
            if time.perf_counter() - started > START_LIMIT_S:
                raise SystemExit(f"{' '.join(command)} did not answer within {START_LIMIT_S} s")
            time.sleep(0.005)
        return time.perf_counter() - started
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def run_to_exit(command: Sequence[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=60)
    return time.perf_counter() - started


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


def mock_serve(*extra: str) -> Callable[[], float]:
    def measure() -> float:
        port = free_port()
        command = [PY, "-m", "mock_server", "serve", "--host", "127.0.0.1", "--port", str(port), *extra]
        return first_answer(command, f"http://127.0.0.1:{port}/__mock/health")

    return measure


def bare_starlette() -> float:
    port = free_port()
    command = [PY, "-m", "uvicorn", "bench.baseline_app:app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"]
    return first_answer(command, f"http://127.0.0.1:{port}/api/v1/message/fetch/x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement (default 5)")
    args = parser.parse_args()
    times: dict[str, list[float]] = {"baseline": [], "serve": [], "help": [], "fleet": []}
    with redis_server() as store:
        fleet = mock_serve("--workers", "2", "--store", store)
        for round_ in range(args.rounds):
            pair: list[tuple[str, Callable[[], float]]] = [("baseline", bare_starlette), ("serve", mock_serve())]
            for name, measure in pair if round_ % 2 == 0 else pair[::-1]:
                times[name].append(measure())
            times["help"].append(run_to_exit([PY, "-m", "mock_server", "--help"]))
            times["fleet"].append(fleet())
    median = {name: statistics.median(values) for name, values in times.items()}
    ratio = median["serve"] / median["baseline"]
    print(f"flux-mock start-up, medians of {args.rounds} rounds (cpus: {os.cpu_count()})")
    print(f"  bare Starlette first answer        {median['baseline']:6.2f} s")
    verdict = "PASS" if ratio <= 2 else "FAIL"
    print(f"  flux-mock serve first answer       {median['serve']:6.2f} s   {ratio:.2f}x baseline (<= 2x: {verdict})")
    verdict = "PASS" if median["help"] < 0.5 else "FAIL"
    print(f"  flux-mock --help                   {median['help']:6.2f} s   (< 0.5 s: {verdict})")
    verdict = "PASS" if median["fleet"] <= 3 else "FAIL"
    print(f"  serve --workers 2 --store redis    {median['fleet']:6.2f} s   (<= 3 s: {verdict})")
    for name, values in times.items():
        print(f"  {name:9s} " + " ".join(f"{v:.2f}" for v in values))


if __name__ == "__main__":
    main()
