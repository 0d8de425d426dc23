"""The one-line header on every screen: where you are, what the engine is doing, who is on."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from core.events import RiskSnapshot, RiskState, SessionsChanged

if TYPE_CHECKING:
    from core.deck import Deck
    from core.trading.risk import RiskEvent

Clock = Callable[[], float]
#: The most detailed header line (see ``StatusHeader._line``).
DETAIL = 5


class StatusHeader(BusPane):
    """Screen title, environment, PAPER/LIVE, risk state, how long the account has run
    and when it last recovered, the UTC clock, connected users; and while trading is
    HALTED, a banner under it: who halted it, when and why, and what resuming needs.

    The clock is injected (``clock`` returns epoch seconds) so that a frozen
    clock gives identical frames in snapshot tests.

    COMPONENT_CLASSES:
        status-header--title: the product and screen. status-header--halted: a risk halt.
        status-header--label: quiet text.
    """

    TOPICS = (RiskSnapshot, SessionsChanged)
    COMPONENT_CLASSES = {"status-header--title", "status-header--halted", "status-header--label"}
    DEFAULT_CSS = """
    StatusHeader { dock: top; height: auto; background: $panel; }
    StatusHeader > #status-line { width: 1fr; height: 1; }
    StatusHeader > #halt-banner {
        display: none; width: 1fr; height: auto; background: $error; color: $text;
        text-style: bold; padding: 0 1;
    }
    StatusHeader.-halted > #halt-banner { display: block; }
    StatusHeader .status-header--title { color: $primary; text-style: bold; }
    StatusHeader .status-header--halted { color: $error; text-style: bold reverse; }
    StatusHeader .status-header--label { color: $text-muted; }
    """

    def __init__(
        self,
        bus: Any,
        screen_title: str,
        environment: str,
        *,
        clock: Clock = time.time,
        max_hz: float = 10.0,
    ) -> None:
        super().__init__(bus, max_hz)
        self.screen_title = screen_title
        self.environment = environment
        self.mode = "starting"  # until the Deck is shown (``show_engine``)
        self.risk = RiskState.ACTIVE
        self.users: tuple[str, ...] = ()
        self.deck: Deck | None = None  # its account is read at each redraw: it opens at start
        self.clock = clock

    def show_engine(self, deck: Deck) -> None:
        """Take the engine's mode and risk state, and who is connected, from the Deck."""
        self.mode = deck.engine.mode
        self.risk = deck.engine.execution.risk.state
        self.users = tuple(sorted({s.user for s in deck.sessions.sessions}))
        self.deck = deck
        if self.is_mounted:
            self._redraw()
            self._show_halt()

    def compose(self) -> Any:
        yield Static(self._line(), id="status-line")
        yield Static("", id="halt-banner")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._redraw)
        self._show_halt()

    def apply(self, events: list[Any]) -> None:
        was = self.risk
        for event in events:
            if isinstance(event, RiskSnapshot):
                self.risk = event.state
            elif isinstance(event, SessionsChanged):
                self.users = tuple(sorted({s.user for s in event.sessions}))
        self._redraw()
        if self.risk is not was:
            self._show_halt()

    def _show_halt(self) -> None:
        """Show the banner while HALTED (a new layout, but only when the state changes)."""
        halted = self.risk is RiskState.HALTED
        if halted:
            halt = self.deck.engine.halt if self.deck is not None else None
            self.query_one("#halt-banner", Static).update(halt_banner(halt))
        self.set_class(halted, "-halted")

    def _redraw(self) -> None:
        # One line, always: no new layout (a Static's default), which would reflow
        # the whole screen several times a second.
        self.query_one("#status-line", Static).update(self._line(), layout=False)

    def on_resize(self) -> None:
        self._redraw()

    def _line(self) -> Text:
        """The most detailed line that fits the width. Narrower, the recovery time goes
        first, then who is on becomes how many, then the product name goes, then the
        account's age, then the clock and the count; the screen, PAPER/LIVE and the risk
        state always stay (and a HALT's banner is a line of its own, below)."""
        width = self.size.width or self.app.size.width
        for detail in range(DETAIL, -1, -1):
            line = self._detailed(detail)
            if line.cell_len <= width:
                break
        return line

    def _detailed(self, detail: int) -> Text:
        quiet = self.get_component_rich_style("status-header--label", partial=True)
        risk_style = (
            self.get_component_rich_style("status-header--halted", partial=True)
            if self.risk is not RiskState.ACTIVE
            else ""
        )
        text = Text(no_wrap=True, overflow="ellipsis")
        title = " Quarterdeck " if detail >= 3 else " "
        text.append(title, self.get_component_rich_style("status-header--title"))
        text.append(f"{self.screen_title} ", quiet)
        text.append(f"│ {self.environment} {self.mode.upper()} │ ")
        text.append(f"risk {self.risk.value.upper()}", risk_style)
        account = self.deck.account if self.deck is not None else None
        if account is not None and detail >= 2:  # the Deck has started: the account's age
            text.append(f" │ acct {fmt.age(self.clock() - account.account.created_at)}")
            recovered_at = self.deck.recovered_at if self.deck is not None else None
            if recovered_at is not None and detail >= 5:
                recovered = datetime.fromtimestamp(recovered_at, UTC).strftime("%H:%MZ")
                text.append(f", recovered {recovered}", quiet)
        if detail >= 1:
            text.append(f" │ {datetime.fromtimestamp(self.clock(), UTC).strftime('%H:%M:%SZ')}")
        if detail >= 4:
            text.append(" │ ")
            text.append(f"on: {', '.join(self.users) if self.users else '-'}", quiet)
        elif detail >= 1:
            text.append(" │ ")
            text.append(f"{len(self.users)} on", quiet)
        return text


def halt_banner(halt: RiskEvent | None) -> str:
    """Who halted trading, when and why, and what it takes to resume."""
    if halt is None:
        said = "HALTED"
    else:
        when = datetime.fromtimestamp(halt.at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        said = f"HALTED by {halt.who} at {when}: {halt.why}"
    return (
        f"{said}. Every strategy is stopped and positions are flattened. To resume: "
        "an admin resets risk (R on Trading), then an operator starts each strategy (g)."
    )
