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
