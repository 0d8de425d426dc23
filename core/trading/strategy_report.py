"""One strategy's drill-down: its figures, costs, turnover, newest fills and signals.

The figures come from ``core.trading.account.strategy_figures``, the same code as
``quarterdeck account --json``'s ``strategies``: front ends only display them.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.events import StrategyChanged
from core.research.signals import EXIT_LONG, EXIT_SHORT, FLAT, LONG, SHORT
from core.store import FillRow
from core.trading.account import StrategyFigures, total_pnl
from core.trading.engine import Signal

TARGETS = {LONG: "long", SHORT: "short", FLAT: "flat", EXIT_LONG: "exit long",
           EXIT_SHORT: "exit short"}  # fmt: skip


@dataclass(frozen=True)
class StrategyReport:
    strategy: str
    running: bool
    stopped: StrategyChanged | None  # who stopped it, when and why
    figures: StrategyFigures
    recent_fills: tuple[FillRow, ...]  # newest last
    signals: tuple[Signal, ...]  # newest last
    version: str = ""  # of the code it runs now
    source: str = ""  # where that code comes from: built-in, a file, a package

    @property
    def fees(self) -> float:
        return self.figures.ledger.commissions + self.figures.ledger.slippage

    @property
    def gross_pnl(self) -> float:
        """Realized and unrealized PnL before costs."""
        ledger = self.figures.ledger
        return ledger.realized_pnl + ledger.unrealized_pnl

    @property
    def total_pnl(self) -> float:
        return total_pnl(self.figures.ledger)

    @property
    def costs_exceed_gross(self) -> bool:
        """The strategy pays more in fees than it makes before them."""
        return self.fees > 0 and self.fees > self.gross_pnl


def target_name(target: int) -> str:
    return TARGETS.get(target, str(target))
