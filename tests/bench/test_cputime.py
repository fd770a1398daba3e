"""bench/cputime.py: the CPU-per-request arithmetic, the per-round ratios and the report (not the benchmark)."""

from __future__ import annotations

import pytest

from bench.cputime import TARGETS, Measure, cell, cpu_per_request_us, ratio, redis_limit_rps, render

SCENARIOS = {"get": "GET done", "post": "POST imagine"}


def m(server: str, scenario: str, rnd: int, mock_us: float, rps: float, redis_us: float = 0.0) -> Measure:
    return Measure(
        scenario, server, rnd, requests=10_000, rps=rps, p99_ms=2.0 + rnd, mock_us=mock_us, redis_us=redis_us
    )


def test_cpu_per_request_is_the_cpu_seconds_spent_over_the_requests() -> None:
    assert cpu_per_request_us(10.0, 10.5, 10_000) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="no requests"):
        cpu_per_request_us(1.0, 2.0, 0)
    with pytest.raises(ValueError, match="backwards"):
        cpu_per_request_us(2.0, 1.0, 10)


def test_ratios_pair_servers_within_a_round_and_take_the_median() -> None:
    measures = [
        m("bare", "post", 1, 50, 20_000), m("memory", "post", 1, 100, 8_000),   # 2.0x CPU, 0.4x req/s
        m("bare", "post", 2, 100, 10_000), m("memory", "post", 2, 150, 5_000),  # 1.5x (a busy round for both)
        m("bare", "post", 3, 60, 18_000), m("memory", "post", 3, 108, 9_000),   # 1.8x
    ]  # fmt: skip
    assert ratio(measures, "post", "memory", "bare", "cpu_us") == pytest.approx(1.8)
    assert ratio(measures, "post", "memory", "bare", "rps") == pytest.approx(0.5)
    assert ratio(measures, "get", "memory", "bare", "cpu_us") is None  # not measured
    summary = cell([x for x in measures if x.server == "memory"])
    assert (summary.cpu_us, summary.rps, summary.p99_worst_ms, summary.rounds) == (108, 8_000, 5.0, 3)


def test_redis_cpu_counts_in_the_total_and_bounds_the_fleet() -> None:
    both = m("redis-1w", "post", 1, 200, 5_000, redis_us=50)
    assert both.cpu_us == 250
    assert redis_limit_rps(50) == pytest.approx(20_000)
    assert redis_limit_rps(0) is None


def test_the_report_shows_figures_ratios_and_verdicts() -> None:
    measures = [
        m("bare", "post", 1, 60, 20_000), m("memory", "post", 1, 120, 10_000),
        m("bare", "get", 1, 50, 25_000), m("memory", "get", 1, 55, 24_000), m("memory-cap", "get", 1, 56, 23_000),
        m("redis-1w", "post", 1, 150, 6_000, redis_us=40),
    ]  # fmt: skip
    text = render(measures, SCENARIOS, ["bare", "memory", "memory-cap", "redis-1w"])
    row = next(line for line in text.splitlines() if "memory " in line and "120.0" in line)
    assert "2.00x" in row
    assert "0.50x" in row
    verdicts = {line.split("  ")[1].strip(): line.split()[-1] for line in text.splitlines() if "≤" in line}
    assert verdicts["CPU per POST, memory / bare ≤ 1.8x"] == "MISS"  # 2.00x
    assert verdicts["CPU per GET done, memory / bare ≤ 1.2x"] == "PASS"  # 1.10x
    assert "CPU per GET done, redis-1w / memory ≤ 1.2x" in text
    assert "not measured" in text
    assert "req/s GET done, memory at the cap / fresh ≥ 0.95x" in text
    assert "0.96x" in text
    assert "p99 GET done, memory at the cap < 10 ms" in text
    assert "redis-server 40.0 µs/req" in text
    assert "25,000 req/s" in text
    assert len(TARGETS) == len({t.label for t in TARGETS})
