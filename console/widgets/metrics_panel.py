"""A backtest's metrics as label/value pairs, as many pairs a line as the width holds."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from rich.table import Table
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from console import formatting as fmt


def _ratio(value: float) -> str:
    return fmt.ratio(value, 2)


def _count(value: float) -> str:
    return f"{int(value):,}"


#: (metric, label, how it is shown), in the order a reader looks for them.
METRICS: tuple[tuple[str, str, Callable[[float], str]], ...] = (
    ("total_return", "Return", fmt.signed_percent),
    ("cagr", "CAGR", fmt.signed_percent),
    ("sharpe", "Sharpe", _ratio),
    ("max_drawdown", "Max drawdown", fmt.percent),
    ("trades", "Trades", _count),
    ("win_rate", "Win rate", fmt.percent),
    ("profit_factor", "Profit factor", _ratio),
    ("sortino", "Sortino", _ratio),
    ("calmar", "Calmar", _ratio),
    ("volatility", "Volatility", fmt.percent),
    ("exposure", "Exposure", fmt.percent),
    ("avg_trade", "Avg trade", fmt.signed_percent),
    ("best_trade", "Best trade", fmt.signed_percent),
    ("worst_trade", "Worst trade", fmt.signed_percent),
    ("sqn", "SQN", _ratio),
    ("equity_final", "Final equity", fmt.money),
)
LABEL_WIDTH = 13
VALUE_WIDTH = 12
GAP = 1  # between a value and the next pair's label


def formatted(metrics: Mapping[str, float]) -> dict[str, str]:
    """Each metric as the panel shows it, by metric name."""
    return {name: show(metrics[name]) for name, _, show in METRICS}


class MetricsPanel(Widget):
    """Read-only; ``show(metrics)`` replaces what it shows. Values are right-aligned and
    signed ones carry an arrow, so they read without colour."""

    DEFAULT_CSS = """
    MetricsPanel { height: auto; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: dict[str, str] = {}

    def show(self, metrics: Mapping[str, float]) -> None:
        self._shown = formatted(metrics)
        self.refresh(layout=True)

    @property
    def shown(self) -> dict[str, str]:
        return dict(self._shown)

    def _pairs(self, width: int) -> int:
        fits = (width + GAP) // (LABEL_WIDTH + VALUE_WIDTH + GAP)
        return max(1, min(len(METRICS), fits))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return math.ceil(len(METRICS) / self._pairs(width)) if self._shown else 1

    def render(self) -> Table | Text:
        if not self._shown:
            return Text("No backtest yet: choose a strategy and press b.", style="italic")
        pairs = self._pairs(self.size.width)
        table = Table.grid()
        for pair in range(pairs):
            indent = 0 if pair == 0 else GAP
            table.add_column(width=LABEL_WIDTH + indent, style="bold")
            table.add_column(width=VALUE_WIDTH, justify="right")
        rows = math.ceil(len(METRICS) / pairs)
        for row in range(rows):
            cells: list[str] = []
            for column in range(pairs):
                index = column * rows + row
                if index < len(METRICS):
                    name, label, _ = METRICS[index]
                    cells += [(" " * GAP if column else "") + label, self._shown[name]]
            table.add_row(*cells)
        return table
