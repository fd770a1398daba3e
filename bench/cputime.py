"""CPU time per request: the arithmetic, the verdicts and the table of `bench/cpu.py` (pure; tested).

A measurement is one fixed wrk run against one server: the CPU seconds its processes (and redis-server, when
it has one) spent during the run, divided by the requests wrk completed. Ratios compare two servers measured
in the same round (back to back), and the verdict takes the median of those per-round ratios, so a slow phase
of a shared machine hits both sides of each ratio.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass


def cpu_per_request_us(before_s: float, after_s: float, requests: int) -> float:
    """Microseconds of CPU per request between two readings of utime+stime (seconds)."""
    if requests <= 0:
        raise ValueError(f"no requests completed ({requests}); CPU per request is undefined")
    if after_s < before_s:
        raise ValueError(f"CPU time went backwards ({before_s} s -> {after_s} s): a process restarted mid-run")
    return (after_s - before_s) * 1e6 / requests


@dataclass(frozen=True, slots=True)
class Measure:
    """One wrk run against one server in one round."""

    scenario: str
    server: str
    round: int
    requests: int
    rps: float
    p99_ms: float
    mock_us: float  # CPU per request of the server's processes (supervisor and workers)
    redis_us: float = 0.0  # CPU per request of redis-server (0 without Redis)

    @property
    def cpu_us(self) -> float:
        """All CPU a request cost: the server's and redis-server's."""
        return self.mock_us + self.redis_us


@dataclass(frozen=True, slots=True)
class Cell:
    """One server on one scenario, over the rounds: medians, and the worst p99."""

    cpu_us: float
    mock_us: float
    redis_us: float
    rps: float
    p99_ms: float
    p99_worst_ms: float
    rounds: int


def cell(measures: list[Measure]) -> Cell:
    """Medians over the rounds of one server and scenario."""
    if not measures:
        raise ValueError("no measurements to summarise")
    med = statistics.median
    return Cell(
        cpu_us=med(m.cpu_us for m in measures),
        mock_us=med(m.mock_us for m in measures),
        redis_us=med(m.redis_us for m in measures),
        rps=med(m.rps for m in measures),
        p99_ms=med(m.p99_ms for m in measures),
        p99_worst_ms=max(m.p99_ms for m in measures),
        rounds=len(measures),
    )


def ratio(measures: list[Measure], scenario: str, server: str, reference: str, metric: str) -> float | None:
    """Median over rounds of `server`'s `metric` ("cpu_us" or "rps") over `reference`'s in the same round."""
    by_round: dict[int, dict[str, float]] = {}
    for m in measures:
        if m.scenario == scenario and m.server in (server, reference):
            by_round.setdefault(m.round, {})[m.server] = float(getattr(m, metric))
    ratios = [r[server] / r[reference] for r in by_round.values() if r.get(reference) and server in r]
    return statistics.median(ratios) if ratios else None


@dataclass(frozen=True, slots=True)
class Target:
    """`server`'s `metric` over `reference`'s on `scenario` must be at most (or at least) `limit`."""

    label: str
    scenario: str
    server: str
    reference: str
    metric: str  # "cpu_us" or "rps"
    limit: float
    at_most: bool = True

    def judge(self, measures: list[Measure]) -> tuple[float | None, bool | None]:
        """(the median per-round ratio, met?); (None, None) when either server was not measured."""
        found = ratio(measures, self.scenario, self.server, self.reference, self.metric)
        if found is None:
            return None, None
        return found, found <= self.limit if self.at_most else found >= self.limit


# Issue 22's targets. Redis's (item 2) are measured too, on whatever the Redis store is today.
TARGETS = (
    Target("CPU per POST, memory / bare", "post", "memory", "bare", "cpu_us", 1.8),
    Target("CPU per GET done, memory / bare", "get", "memory", "bare", "cpu_us", 1.2),
    Target("CPU per POST, redis-1w / memory", "post", "redis-1w", "memory", "cpu_us", 1.5),
    Target("CPU per GET done, redis-1w / memory", "get", "redis-1w", "memory", "cpu_us", 1.2),
    Target("req/s GET done, memory at the cap / fresh", "get", "memory-cap", "memory", "rps", 0.95, at_most=False),
    Target("req/s POST, memory / bare", "post", "memory", "bare", "rps", 0.6, at_most=False),
    Target("req/s GET done, memory / bare", "get", "memory", "bare", "rps", 0.8, at_most=False),
    Target("req/s GET processing, memory / bare", "get-live", "memory", "bare", "rps", 0.8, at_most=False),
)
MAX_P99_MS = 10.0  # for the memory mock at the cap, GET of a finished job


def redis_limit_rps(redis_us: float) -> float | None:
    """Requests per second at which redis-server's one thread is saturated (None without Redis CPU)."""
    return 1e6 / redis_us if redis_us > 0 else None


def render(measures: list[Measure], scenarios: dict[str, str], servers: list[str]) -> str:
    """The table (medians over rounds; ratios against bare Starlette in the same round) and the verdicts."""
    head = (
        f"  {'scenario':<15} {'server':<11} {'CPU µs/req':>10} {'mock':>7} {'redis':>7} {'x bare':>7} "
        f"{'req/s':>9} {'x bare':>7} {'p99 ms':>7} {'worst':>7}"
    )
    lines = [head, "  " + "-" * (len(head) - 2)]
    for scenario, title in scenarios.items():
        first = True
        for server in servers:
            found = [m for m in measures if m.scenario == scenario and m.server == server]
            if not found:
                continue
            c = cell(found)
            cpu_x = ratio(measures, scenario, server, "bare", "cpu_us")
            rps_x = ratio(measures, scenario, server, "bare", "rps")
            lines.append(
                f"  {title if first else '':<15} {server:<11} {c.cpu_us:>10.1f} {c.mock_us:>7.1f} "
                f"{_or_dash(c.redis_us, '.1f'):>7} {_times(cpu_x):>7} {c.rps:>9,.0f} {_times(rps_x):>7} "
                f"{c.p99_ms:>7.2f} {c.p99_worst_ms:>7.2f}"
            )
            first = False
    lines += ["", f"  {'target':<52} {'measured':>9}  result", "  " + "-" * 70]
    for target in TARGETS:
        found, ok = target.judge(measures)
        sign = "≤" if target.at_most else "≥"
        shown = "-" if found is None else f"{found:.2f}x"
        verdict = "not measured" if ok is None else ("PASS" if ok else "MISS")
        lines.append(f"  {target.label + f' {sign} {target.limit:g}x':<52} {shown:>9}  {verdict}")
    cap = [m for m in measures if m.scenario == "get" and m.server == "memory-cap"]
    if cap:
        c = cell(cap)
        verdict = "PASS" if c.p99_ms < MAX_P99_MS else "MISS"
        label = f"p99 GET done, memory at the cap < {MAX_P99_MS:g} ms"
        lines.append(f"  {label:<52} {c.p99_ms:>6.2f} ms  {verdict} (worst round {c.p99_worst_ms:.2f} ms)")
    redis = [m for m in measures if m.redis_us > 0]
    if redis:
        lines.append("")
        for scenario, title in scenarios.items():
            for server in servers:
                found = [m for m in redis if m.scenario == scenario and m.server == server]
                if found:
                    c = cell(found)
                    limit = redis_limit_rps(c.redis_us)
                    lines.append(
                        f"  {title} on {server}: redis-server {c.redis_us:.1f} µs/req, so its one thread saturates "
                        f"at ~{limit:,.0f} req/s whatever the number of workers"
                    )
    return "\n".join(lines)


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _or_dash(value: float, fmt: str) -> str:
    return format(value, fmt) if value > 0 else "-"
