"""Live panes redraw on their console's beats: the ones due redraw in one frame."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from textual.app import App, ComposeResult

from console.pace import BEAT
from console.widgets.bus_pane import BusPane
from core.bus import Bus


@dataclass(frozen=True)
class Tick:
    n: int


@dataclass(frozen=True)
class Tock:
    n: int


class Recorder(BusPane):
    TOPICS = (Tick, Tock)

    def __init__(self, bus: Bus, max_hz: float) -> None:
        super().__init__(bus, max_hz)
        self.batches: list[tuple[float, list[Any]]] = []

    def apply(self, events: list[Any]) -> None:
        self.batches.append((asyncio.get_running_loop().time(), events))


class TwoPanes(App[None]):
    def __init__(self, bus: Bus) -> None:
        super().__init__()
        self.bus = bus
        self.redraw_phase = 0.3

    def compose(self) -> ComposeResult:
        yield Recorder(self.bus, max_hz=10.0)
        yield OnlyTocks(self.bus, max_hz=5.0)


class OnlyTocks(Recorder):
    TOPICS = (Tock,)


async def test_panes_of_one_console_redraw_together_and_no_faster_than_their_rate() -> None:
    bus = Bus()
    bus.attach(asyncio.get_running_loop())
    app = TwoPanes(bus)
    async with app.run_test(size=(40, 10)) as pilot:
        fast, slow = app.query(Recorder)
        # 1.2 s of events, far more often than either pane redraws; the slow pane's
        # start 55 ms after the fast one's, so only beats can bring them into step.
        for n in range(120):
            bus.publish(Tick(n))
            if n > 5:
                bus.publish(Tock(n))
            await asyncio.sleep(0.01)
        await pilot.pause(0.3)
        assert fast.batches[-1][1][-1] == slow.batches[-1][1][-1] == Tock(119)  # all shown
        # The first batch is drawn at once; then at most one a beat, or every other.
        assert len(fast.batches) <= 1 + 1.5 / BEAT
        assert len(slow.batches) <= 1 + 1.5 / (2 * BEAT)
        assert len(slow.batches) < len(fast.batches)
        # While events kept coming, each of the slow pane's redraws shared a frame
        # with one of the fast pane's.
        fast_times = [t for t, _ in fast.batches[1:]]
        for when, _ in slow.batches[1:]:
            if when < fast_times[-1]:
                assert min(abs(when - t) for t in fast_times) < 0.01


async def test_each_live_pane_of_a_screen_subscribes_once(settings) -> None:  # type: ignore[no-untyped-def]
    """Textual calls every class's ``on_mount`` along a widget's ancestry: a pane that also
    called its base's would subscribe twice, redraw twice and leak one subscription when
    its session ends."""
    from console.modes import MODES
    from tests.console.pilot import make_app, wait_until

    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        for mode in list(MODES.values())[1:]:
            before = deck.bus.subscriber_count()
            await pilot.press(mode.key)
            await wait_until(pilot, lambda mode=mode: app.screen.id == mode.name)
            await pilot.pause(0.2)
            panes = len(app.screen.query(BusPane))
            assert deck.bus.subscriber_count() - before == panes, mode.name
        await pilot.press("q")
