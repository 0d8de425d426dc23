"""The live strategies: running or stopped, their sub-ledger's equity and PnL, the
version of the code each runs, and what they trade with which parameters."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from console.widgets.fit_table import FitTable
from core.bus import Bus
from core.events import PortfolioSnapshot, StrategyChanged
from core.trading.engine import StrategySpec


class StrategiesTable(BusPane):
    """One row per strategy, keyed by its id; ``selected`` is the one under the cursor.

    Built from the engine's specs and stopped set when mounted, then kept current
    from ``StrategyChanged`` (a restart's carries the new code's version) and each
    strategy's sub-ledger in the portfolio snapshots.

    COMPONENT_CLASSES:
        strategies-table--stopped: a stopped strategy's state (the word is shown too).
        strategies-table--up, strategies-table--down: its PnL.
    """

    TOPICS = (PortfolioSnapshot, StrategyChanged)
    LATEST_ONLY = False  # every start and stop counts, not just the newest event
    COMPONENT_CLASSES = {
        "strategies-table--stopped", "strategies-table--up", "strategies-table--down",
    }  # fmt: skip
    DEFAULT_CSS = """
    StrategiesTable { border: round $primary; height: auto; max-height: 12; }
    StrategiesTable > DataTable { height: auto; max-height: 10; }
    StrategiesTable .strategies-table--stopped { color: $warning; text-style: bold; }
    StrategiesTable .strategies-table--up { color: $success; }
    StrategiesTable .strategies-table--down { color: $error; }
    """

    def __init__(self, bus: Bus, specs: list[StrategySpec],
                 stopped_by: dict[str, StrategyChanged], max_hz: float = 10.0,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(bus, max_hz, **kwargs)
        self.specs = specs
        self.stopped_by = dict(stopped_by)
        self.versions = {spec.strategy.id: spec.strategy.version for spec in specs}

    @property
    def stopped(self) -> set[str]:
        return set(self.stopped_by)

    def compose(self) -> ComposeResult:
        self.border_title = "Strategies"
        # Too narrow for all: the widest of these give up cells first, the state (with who
        # stopped it) only when the others cannot
        table = FitTable(shrink=("symbols", "params", "why", "version", "state"),
                         shrink_last=("state",), id="strategies", cursor_type="row",
                         zebra_stripes=True)  # fmt: skip
        for label, key in (("Strategy", "id"), ("State", "state"), ("PnL", "pnl"),
                           ("Equity", "equity"), ("Version", "version"), ("Params", "params"),
                           ("Symbols", "symbols"), ("Why", "why")):  # fmt: skip
            table.add_column(label, key=key)
        yield table

    def on_mount(self) -> None:
        table = self.query_one("#strategies", DataTable)
        for spec in self.specs:
            params = " ".join(f"{k}={v}" for k, v in spec.params.items()) or "defaults"
            table.add_row(
                spec.strategy.id, self._state(spec.strategy.id), Text("--", justify="right"),
                Text(fmt.money(spec.cash), justify="right"),
                short_version(self.versions[spec.strategy.id]),
                params, ", ".join(spec.symbols), self._why(spec.strategy.id),
                key=spec.strategy.id,
            )  # fmt: skip
        self._subtitle()

    def apply(self, events: list[Any]) -> None:
        table = self.query_one("#strategies", DataTable)
        ledgers: dict[str, PortfolioSnapshot] = {}
        for event in events:
            if isinstance(event, StrategyChanged) and event.version:
                self.versions[event.strategy] = event.version
            if isinstance(event, StrategyChanged) and event.running:
                self.stopped_by.pop(event.strategy, None)
            elif isinstance(event, StrategyChanged):
                self.stopped_by[event.strategy] = event
            elif event.name == "account":
                ledgers.update((ledger.name, ledger) for ledger in event.strategies)
        for spec in self.specs:
            name = spec.strategy.id
            cells: dict[str, Text | str] = {
                "state": self._state(name),
                "why": self._why(name),
                "version": short_version(self.versions.get(name, "")),
            }
            ledger = ledgers.get(name)
            if ledger is not None:
                cells["pnl"] = self._pnl(ledger.total_pnl)
                cells["equity"] = Text(fmt.money(ledger.equity), justify="right")
            for key, value in cells.items():  # PnL grows from "--": widen as it does
                table.update_cell(name, key, value, update_width=True)
        self._subtitle()

    def _subtitle(self) -> None:
        running = len(self.specs) - len(self.stopped_by)
        self.border_subtitle = f"{running}/{len(self.specs)} running"

    def _why(self, name: str) -> str:
        change = self.stopped_by.get(name)
        return "" if change is None else change.why

    def _state(self, name: str) -> Text:
        """Running, or stopped and by whom (the reason is the last column)."""
        change = self.stopped_by.get(name)
        if change is not None:
            stopped = self.get_component_rich_style("strategies-table--stopped")
            return Text(f"■ stopped · {change.who}", style=stopped)
        return Text("▶ running")

    def _pnl(self, value: float) -> Text:
        component = "strategies-table--up" if value > 0 else "strategies-table--down"
        style = self.get_component_rich_style(component) if value else ""
        return Text(fmt.signed_money(value), style=style, justify="right")

    @property
    def selected(self) -> str | None:
        table = self.query_one("#strategies", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return str(key.value)


#: Hex digits of a version the table shows (the drill-down shows all 12): enough to
#: tell versions apart at a glance, and the cells go to the state and its who.
SHORT_VERSION = 8


def short_version(version: str) -> str:
    return version[:SHORT_VERSION]
