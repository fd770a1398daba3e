"""Clock state shared between processes: `state()` and `restore()`."""

from __future__ import annotations

from mock_server import SystemClock, VirtualClock


def test_a_system_clock_takes_another_clocks_offset_and_freeze() -> None:
    source, copy = SystemClock(), SystemClock()
    heard: list[float] = []
    copy.subscribe(heard.append)
    source.advance(30)
    source.freeze()
    copy.restore(*source.state())
    assert copy.frozen
    assert copy.offset == 30
    assert copy.now() == source.now()  # frozen at the same wall-clock instant, so exactly equal
    assert len(heard) == 1  # a jump forward is announced, so timers fire as after advance()
    source.unfreeze()
    copy.restore(*source.state())
    assert not copy.frozen
    assert abs(copy.now() - source.now()) < 0.5
    assert heard == sorted(heard)  # only ever forward


def test_a_virtual_clock_takes_an_offset_and_announces_only_forward_jumps() -> None:
    clock, heard = VirtualClock(start=100.0), []
    clock.subscribe(heard.append)
    clock.restore(5.0, None)
    assert clock.now() == 105.0
    assert clock.state() == (5.0, None)
    clock.restore(5.0, None)
    assert heard == [105.0]
