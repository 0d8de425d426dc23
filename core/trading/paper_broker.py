"""A paper broker: fills market orders at the price it is given, charging commission."""

from __future__ import annotations

import itertools

from core.events import Fill, Side


class PaperBroker:
    def __init__(self, commission: float) -> None:
        self.commission = commission
        self._order_ids = itertools.count(1)
        self._fill_ids = itertools.count(1)

    def execute_market(
        self, strategy: str, symbol: str, side: Side, quantity: float, price: float, ts: float
    ) -> Fill:
        """Fill a market order for ``quantity`` at ``price`` in full."""
        if quantity <= 0:
            raise ValueError(f"order quantity must be positive, got {quantity}")
        if price <= 0:
            raise ValueError(f"fill price must be positive, got {price}")
        return Fill(
            next(self._fill_ids),
            next(self._order_ids),
            strategy,
            symbol,
            side,
            quantity,
            price,
            self.commission * quantity * price,
            ts,
        )
