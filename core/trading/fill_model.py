"""How a paper fill is priced and charged: the backtest's own definitions."""

from __future__ import annotations

from dataclasses import dataclass

from core.events import Side
from core.research.backtest import fill_cost, fill_price


@dataclass(frozen=True, slots=True)
class FillModel:
    """Commission (fraction of notional) plus a fixed fee per fill, and slippage in basis
    points against the trade; the same arithmetic as ``backtest_kernel``."""

    commission: float = 0.0
    fixed_fee: float = 0.0
    slippage_bps: float = 0.0

    def price(self, side: Side, reference: float) -> float:
        return float(fill_price(reference, side.sign, self.slippage_bps / 10_000.0))

    def cost(self, quantity: float, price: float) -> float:
        return float(fill_cost(quantity, price, self.commission, self.fixed_fee))
