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
    waits for events, hands them to ``apply`` in one batch, then rests for
    ``1 / max_hz`` seconds, so it never redraws more than ``max_hz`` times a
    second however fast events arrive, and never redraws when nothing arrived.
    With many consoles in one process (SSH sessions) the rest is longer: see
    ``console.pace``.

    A pane on a screen that is not showing redraws once a second at most (its
    events wait, coalesced, in its subscription) and catches up the moment its
    screen is shown again: eight hidden dashboard panes redrawing ten times a
    second had slowed every other screen's key presses.
    """

    TOPICS: ClassVar[tuple[type, ...]] = ()
    LATEST_ONLY: ClassVar[bool] = True

    def __init__(self, bus: Bus, max_hz: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bus = bus
        self._min_interval = 1.0 / max_hz
        self._subscription: Subscription | None = None
        self._shown = asyncio.Event()

    def on_mount(self) -> None:
        self._subscription = self._bus.subscribe(*self.TOPICS, latest_only=self.LATEST_ONLY)
        self.run_worker(self._follow(self._subscription), name=f"{type(self).__name__}-follow")

    def on_unmount(self) -> None:
        if self._subscription is not None:
            self._subscription.close()

    async def _follow(self, subscription: Subscription) -> None:
        while not subscription.closed:
            await subscription.wait()
            events = subscription.drain()
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
            await self._rest()

    async def _rest(self) -> None:
        if self.screen.is_current:
            await asyncio.sleep(PACE.interval(self._min_interval))
            return
        self._shown.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._shown.wait(), HIDDEN_INTERVAL)

    def catch_up(self) -> None:
        """The pane's screen is showing again: redraw from what arrived meanwhile now."""
        self._shown.set()

    def apply(self, events: list[Any]) -> None:
        """Update the pane from a batch of events, oldest first."""
        raise NotImplementedError
