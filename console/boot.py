"""What the console needs to draw before its Deck exists, and how it then builds one.

Importing the trading domain (numba, SQLAlchemy, the strategy library, the
probes) takes most of a second. The console draws its first dashboard frame
from the settings and the bus alone, then builds the Deck in a thread while
the operator is already looking at it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from console.modes import import_screens
from core.bus import Bus
from core.config import Settings

if TYPE_CHECKING:
    from checks import ReadinessService
    from core.deck import Deck


@dataclass
class DeckRecipe:
    """A Deck not built yet: its settings, and the bus the first frame's panes subscribe to."""

    settings: Settings
    bus: Bus = field(default_factory=Bus)

    def build(self) -> tuple[Deck, ReadinessService]:
        """Import the domain and build the Deck with its readiness service (blocking:
        run it in a thread). The screens are imported here too, so the first switch
        to each does not import on the event loop."""
        from checks import ReadinessService
        from core.deck import Deck

        deck = Deck(self.settings, bus=self.bus)
        readiness = ReadinessService(deck, remember_target=True)
        deck.add_service(readiness)
        import_screens()
        return deck, readiness
