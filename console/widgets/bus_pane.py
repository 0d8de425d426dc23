"""A pane that redraws from bus events at a bounded rate."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, ClassVar

from textual.containers import Vertical
from textual.css.query import NoMatches

from console.pace import PACE
from core.bus import Bus, Subscription

HIDDEN_INTERVAL = 1.0  # seconds between redraws of a pane whose screen is not showing


class BusPane(Vertical):
    """Base for live panes: subscribes to ``TOPICS`` on mount, unsubscribes on unmount.

    Events are coalesced (``latest_only``) when ``LATEST_ONLY`` is true. The pane
    waits for events, then for the console's next beat (``1 / max_hz`` seconds
    apart), and hands what arrived to ``apply`` in one batch: it never redraws
    more than ``max_hz`` times a second however fast events arrive, never
    redraws when nothing arrived, and the panes that are due redraw together, in
    one frame. The first batch is drawn at once. With many consoles in one
    process (SSH sessions) beats are further apart: see ``console.pace``.

    A pane on a screen that is not showing redraws once a second at most (its
    events wait, coalesced, in its subscription) and catches up the moment its
    screen is shown again: eight hidden dashboard panes redrawing ten times a
    second had slowed every other screen's key presses.
    """

    TOPICS: ClassVar[tuple[type, ...]] = ()
    LATEST_ONLY: ClassVar[bool] = True
    #: Start from what the bus kept of the topics (``Bus.keep``), not only new events.
    REPLAY: ClassVar[bool] = False

    def __init__(self, bus: Bus, max_hz: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bus = bus
        self._min_interval = 1.0 / max_hz
        self._subscription: Subscription | None = None
        self._shown = asyncio.Event()
        self._last_redraw: float | None = None  # loop time; none before the first

    def on_mount(self) -> None:
        self._subscription = self._bus.subscribe(
            *self.TOPICS, latest_only=self.LATEST_ONLY, replay=self.REPLAY
        )
        self.run_worker(self._follow(self._subscription), name=f"{type(self).__name__}-follow")

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    async def _follow(self, subscription: Subscription) -> None:
        while not subscription.closed:
            await subscription.wait()
            if self._last_redraw is not None:
                await self._rest()
            events = subscription.drain()
            self._last_redraw = asyncio.get_running_loop().time()
            if events:
                try:
                    self.apply(events)
                except NoMatches:
                    # Being removed: Textual takes a pane's children away before the pane
                    # itself (and its subscription), so a last batch can find them gone.
                    # With its children still there, a failed query is a real bug.
                    if self.children:
                        raise
                    return

    async def _rest(self) -> None:
        """Wait, once events are there, until the pane may redraw: its console's
        next beat if its screen is showing, else until the screen is shown or a
        ``HIDDEN_INTERVAL`` has passed since the last redraw."""
        assert self._last_redraw is not None
        now = asyncio.get_running_loop().time()
        if self.screen.is_current:
            phase = getattr(self.app, "redraw_phase", 0.0)
            beat = PACE.next_beat(self._min_interval, phase, now, self._last_redraw)
            await asyncio.sleep(beat - now)
            return
        self._shown.clear()
        with contextlib.suppress(TimeoutError):
            wait = self._last_redraw + HIDDEN_INTERVAL - now
            await asyncio.wait_for(self._shown.wait(), max(wait, 0.0))

    def catch_up(self) -> None:
        """The pane's screen is showing again: redraw from what arrived meanwhile now."""
        self._shown.set()

    def apply(self, events: list[Any]) -> None:
        """Update the pane from a batch of events, oldest first."""
        raise NotImplementedError
