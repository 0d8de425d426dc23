"""A pane that redraws from bus events at a bounded rate."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from textual.containers import Vertical

from core.bus import Bus, Subscription


class BusPane(Vertical):
    """Base for live panes: subscribes to ``TOPICS`` on mount, unsubscribes on unmount.

    Events are coalesced (``latest_only``) when ``LATEST_ONLY`` is true. The pane
    waits for events, hands them to ``apply`` in one batch, then rests for
    ``1 / max_hz`` seconds, so it never redraws more than ``max_hz`` times a
    second however fast events arrive, and never redraws when nothing arrived.
    """

    TOPICS: ClassVar[tuple[type, ...]] = ()
    LATEST_ONLY: ClassVar[bool] = True

    def __init__(self, bus: Bus, max_hz: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bus = bus
        self._min_interval = 1.0 / max_hz
        self._subscription: Subscription | None = None

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
                self.apply(events)
            await asyncio.sleep(self._min_interval)

    def apply(self, events: list[Any]) -> None:
        """Update the pane from a batch of events, oldest first."""
        raise NotImplementedError
