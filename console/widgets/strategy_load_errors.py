"""What did not load, the last time the user strategies were loaded: a few lines above
the strategy list, hidden while everything loads."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Static

from console.widgets.bus_pane import BusPane
from core.events import StrategiesLoaded

#: Errors shown one a line; the rest are counted (the alerts pane has each one).
SHOWN = 3


def errors_text(loaded: StrategiesLoaded) -> str:
    """``2 strategy files did not load:`` then each error (``file:line: message``)."""
    files = len({e.source for e in loaded.errors})
    lines = [f"{files} strategy {'file' if files == 1 else 'files'} did not load:"]
    lines += [f"  {e}" for e in loaded.errors[:SHOWN]]
    if len(loaded.errors) > SHOWN:
        lines.append(f"  and {len(loaded.errors) - SHOWN} more (see the alerts)")
    return "\n".join(lines)


class StrategyLoadErrors(BusPane):
    """Follows ``StrategiesLoaded`` (starting from the newest, for a screen opened after
    the load) and tells its screen of each load with ``Loaded``: the strategy list may
    have changed.
    """

    TOPICS = (StrategiesLoaded,)
    REPLAY = True
    DEFAULT_CSS = """
    StrategyLoadErrors { height: auto; max-height: 5; display: none; padding: 0 1; }
    StrategyLoadErrors.-failing { display: block; }
    StrategyLoadErrors > Static { color: $error; }
    """

    class Loaded(Message):
        def __init__(self, loaded: StrategiesLoaded) -> None:
            super().__init__()
            self.loaded = loaded

    loaded: StrategiesLoaded | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="strategy-load-errors-text")

    def apply(self, events: list[Any]) -> None:
        self.loaded = events[-1]
        failing = bool(self.loaded.errors)
        self.set_class(failing, "-failing")
        text = errors_text(self.loaded) if failing else ""
        self.query_one(Static).update(Text(text, no_wrap=True, overflow="ellipsis"))
        self.post_message(self.Loaded(self.loaded))

    @property
    def text(self) -> str:
        """What the pane says (empty while everything loads)."""
        return errors_text(self.loaded) if self.loaded and self.loaded.errors else ""
