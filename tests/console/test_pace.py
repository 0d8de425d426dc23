"""Live panes slow down when many consoles share the process, and only then."""

from __future__ import annotations

from console.pace import PACE, RedrawPace
from tests.console.frozen import frozen_app


def test_up_to_the_full_rate_share_every_pane_keeps_its_own_rate() -> None:
    pace = RedrawPace(full_rate_consoles=2)
    assert pace.interval(0.1) == 0.1  # no console yet
    pace.opened()
    pace.opened()
    assert pace.interval(0.1) == 0.1


def test_beyond_it_the_rest_grows_with_the_number_of_consoles() -> None:
    pace = RedrawPace(full_rate_consoles=2)
    for _ in range(20):
        pace.opened()
    assert pace.interval(0.1) == 1.0
    for _ in range(15):
        pace.closed()
    assert pace.interval(0.1) == 0.25
    for _ in range(10):
        pace.closed()  # more closes than opens never count below zero
    assert pace.consoles == 0


async def test_a_console_counts_itself_in_while_it_runs(tmp_path) -> None:
    before = PACE.consoles
    app = frozen_app(tmp_path)
    async with app.run_test(size=(80, 24)):
        assert PACE.consoles == before + 1
    assert PACE.consoles == before


def test_beats_are_the_consoles_own_and_every_pane_keeps_to_them() -> None:
    pace = RedrawPace(full_rate_consoles=2)
    phase = pace.opened()
    other = pace.opened()
    assert phase != other

    def on_beat(t: float) -> bool:
        return abs((t - phase * 0.1 + 0.05) % 0.1 - 0.05) < 1e-9

    now = 12.3456
    # A pane at 10 Hz and one at 2 Hz, both last drawn just now: each waits for a beat.
    fast = pace.next_beat(0.1, phase, now, last=now)
    slow = pace.next_beat(0.5, phase, now, last=now)
    assert on_beat(fast) and on_beat(slow)
    assert now + 0.05 <= fast < now + 0.15
    assert now + 0.45 <= slow < now + 0.55
    # Nothing drawn for a while: the next beat from now, not one in the past.
    later = pace.next_beat(0.1, phase, now, last=now - 5)
    assert on_beat(later) and now <= later < now + 0.1
    # Woken 30 ms late for a beat: the next one is still a beat on, not two.
    late = fast + 0.03
    assert abs(pace.next_beat(0.1, phase, late, last=late) - (fast + 0.1)) < 1e-9
    # With twenty consoles the beats are ten times further apart.
    for _ in range(18):
        pace.opened()
    assert pace.next_beat(0.1, phase, now, last=now) - now >= 0.5
