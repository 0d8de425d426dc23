"""How often live panes redraw when many consoles share one process.

Each SSH session is a whole console drawing its live panes in the one event
loop, and drawing is most of a console's cost. Up to ``FULL_RATE_CONSOLES``
consoles redraw at the full rate (10 Hz); beyond that every live pane's rate
is divided by the share, so the loop spends about as much time drawing for
twenty consoles as for two and key presses stay prompt in every session.
"""

from __future__ import annotations

FULL_RATE_CONSOLES = 2


class RedrawPace:
    def __init__(self, full_rate_consoles: int = FULL_RATE_CONSOLES) -> None:
        self.full_rate_consoles = full_rate_consoles
        self.consoles = 0

    def opened(self) -> None:
        self.consoles += 1

    def closed(self) -> None:
        self.consoles = max(0, self.consoles - 1)

    def interval(self, base: float) -> float:
        """The rest between redraws for a pane whose own rest is ``base`` seconds."""
        return base * max(1.0, self.consoles / self.full_rate_consoles)


#: The process's pace: every console counts itself in while it is mounted.
PACE = RedrawPace()
