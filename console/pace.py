"""How often, and when, live panes redraw.

Each SSH session is a whole console drawing its live panes in the one event
loop, and drawing is most of a console's cost. Up to ``FULL_RATE_CONSOLES``
consoles redraw at the full rate (10 Hz); beyond that every live pane's rate
is divided by the share, so the loop spends about as much time drawing for
twenty consoles as for two and key presses stay prompt in every session.

Panes redraw on their console's beats. Textual draws a frame for every batch
of changes and each frame repaints the box around all of them, from the header
to the footer, so eight panes redrawing at moments of their own cost eight
whole-screen frames where one would do. On beats, the panes of one console
that are due redraw together and make one frame. Each console's beats are
offset from the others' by its own phase, so twenty consoles do not all draw
at the same instant while a key press waits.
"""

from __future__ import annotations

FULL_RATE_CONSOLES = 2
#: Seconds between a console's redraw beats at the full rate (the fastest a pane may redraw).
BEAT = 0.1
#: Successive multiples of this, modulo 1, spread phases evenly however many open.
GOLDEN_FRACTION = 0.6180339887498949


class RedrawPace:
    def __init__(self, full_rate_consoles: int = FULL_RATE_CONSOLES) -> None:
        self.full_rate_consoles = full_rate_consoles
        self.consoles = 0
        self._ever_opened = 0

    def opened(self) -> float:
        """Count a console in; returns its phase, a fraction of a beat in [0, 1)."""
        self.consoles += 1
        self._ever_opened += 1
        return (self._ever_opened * GOLDEN_FRACTION) % 1.0

    def closed(self) -> None:
        self.consoles = max(0, self.consoles - 1)

    def interval(self, base: float) -> float:
        """The rest between redraws for a pane whose own rest is ``base`` seconds."""
        return base * max(1.0, self.consoles / self.full_rate_consoles)

    def next_beat(self, base: float, phase: float, now: float, last: float) -> float:
        """When a pane whose own rest is ``base`` seconds, last redrawn at loop time
        ``last``, may redraw next: the first of its console's beats from ``now`` that
        is its rest after ``last``, give or take half a beat.

        A console's beats are ``interval(BEAT)`` apart, offset by ``phase`` of
        that; every pane of the console redraws on them, whatever its own rate, so
        panes due at about the same time redraw in the same frame."""
        beat = self.interval(BEAT)
        earliest = max(now, last + self.interval(base) - beat / 2)
        return earliest + (phase * beat - earliest) % beat


#: The process's pace: every console counts itself in while it is mounted.
PACE = RedrawPace()
