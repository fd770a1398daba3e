"""bench/instructions.py's arithmetic: callgrind's summary read by event name, per request, and CEst."""

from __future__ import annotations

import pytest

from bench.instructions import per_request, totals_of

OUT = """# callgrind format
version: 1
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim
fn=main
summary: 1000 50 40 30 20 10 3 2 1 90 9 80 8
"""


def test_the_summary_is_read_by_event_name_whatever_the_column_order() -> None:
    assert totals_of(OUT) == [1000, 30, 20, 10, 3, 2, 1, 9, 8]
    shuffled = OUT.replace("events: Ir Dr Dw I1mr", "events: Dr Ir Dw I1mr").replace("1000 50", "50 1000")
    assert totals_of(shuffled) == [1000, 30, 20, 10, 3, 2, 1, 9, 8]


def test_a_file_without_the_cache_or_branch_events_is_refused() -> None:
    with pytest.raises(ValueError, match="--cache-sim=yes"):
        totals_of("events: Ir\n")
    with pytest.raises(ValueError, match="--cache-sim=yes"):
        totals_of("events: Ir\nsummary: 5\n")
    without_branches = OUT.replace(" Bc Bcm Bi Bim", "").replace(" 90 9 80 8", "")
    with pytest.raises(ValueError, match="--branch-sim=yes"):
        totals_of(without_branches)


def test_per_request_is_the_difference_over_the_requests_and_cest_weighs_the_misses() -> None:
    before = [1_000, 100, 100, 100, 10, 10, 10, 50, 50]
    after = [21_000, 300, 300, 300, 20, 20, 20, 150, 250]  # 10 requests: 2,000 Ir, 60 L1, 3 LL, 30 branch misses
    assert per_request(before, after, 10) == (2_000, 60, 3, 2_000 + 600 + 300, 30)
