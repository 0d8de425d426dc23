"""Cash, positions and PnL of one account, updated by fills and marked by prices."""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.events import Fill, PortfolioSnapshot, PositionView


@dataclass(slots=True)
class Position:
    quantity: float = 0.0  # signed: negative is short
    avg_price: float = 0.0
    realized_pnl: float = 0.0
    last_price: float = 0.0

    @property
    def unrealized_pnl(self) -> float:
        return self.quantity * (self.last_price - self.avg_price)

    def apply(self, signed_quantity: float, price: float) -> float:
        """Add a fill; returns the PnL it realised (before commission).

        Adding to a position moves the average price; reducing it realises
        ``closed * (price - avg)`` in the position's direction; crossing through
        zero closes the old position and opens the rest at ``price``.
        """
        realized = 0.0
        q = self.quantity
        if q == 0 or (q > 0) == (signed_quantity > 0):
            total = q + signed_quantity
            self.avg_price = (q * self.avg_price + signed_quantity * price) / total
            self.quantity = total
        else:
            closed = min(abs(signed_quantity), abs(q))
            direction = 1.0 if q > 0 else -1.0
            realized = closed * (price - self.avg_price) * direction
            remaining = q + signed_quantity
            if remaining == 0 or (remaining > 0) == (q > 0):
                self.quantity = remaining
                if remaining == 0:
                    self.avg_price = 0.0
            else:
                self.quantity = remaining
                self.avg_price = price
        self.realized_pnl += realized
        self.last_price = price
        return realized


class Portfolio:
    def __init__(self, starting_cash: float) -> None:
        self.starting_cash = starting_cash
        self.cash = starting_cash
        self.positions: dict[str, Position] = {}
        self.realized_pnl = 0.0  # at the market prices the fills met: before costs
        self.commissions = 0.0
        self.slippage = 0.0
        self.fills = 0
        self.peak_equity = starting_cash
        self.ts = 0.0

    def take_over(self, other: Portfolio) -> None:
        """Become a copy of ``other`` (a recovered account), keeping this object, which
        others hold."""
        self.starting_cash, self.cash = other.starting_cash, other.cash
        self.positions = {s: replace(p) for s, p in other.positions.items()}
        self.realized_pnl, self.commissions = other.realized_pnl, other.commissions
        self.slippage = other.slippage
        self.fills, self.peak_equity, self.ts = other.fills, other.peak_equity, other.ts

    def position(self, symbol: str) -> Position:
        position = self.positions.get(symbol)
        if position is None:
            position = self.positions[symbol] = Position()
        return position

    def apply_fill(self, fill: Fill, track_peak: bool = True) -> None:
        """Book a fill. ``track_peak=False`` is for rebuilding an account whose peak is
        known otherwise (the journal's mark): it saves summing the equity per fill."""
        signed = fill.side.sign * fill.quantity
        self.realized_pnl += self.position(fill.symbol).apply(signed, fill.reference_price)
        self.cash -= signed * fill.price + fill.commission
        self.commissions += fill.commission
        self.slippage += fill.slippage
        self.fills += 1
        self.ts = max(self.ts, fill.ts)
        if track_peak:
            self._track_peak()

    def mark(self, symbol: str, price: float, ts: float) -> None:
        position = self.positions.get(symbol)
        if position is not None:
            position.last_price = price
            if position.quantity:
                self._track_peak()
        self.ts = max(self.ts, ts)

    def _track_peak(self) -> None:
        self.peak_equity = max(self.peak_equity, self.equity)

    @property
    def unrealized_pnl(self) -> float:
        return sum(p.unrealized_pnl for p in self.positions.values())

    @property
    def equity(self) -> float:
        return self.cash + sum(p.quantity * p.last_price for p in self.positions.values())

    def snapshot(self, name: str = "account") -> PortfolioSnapshot:
        self._track_peak()
        return PortfolioSnapshot(
            name=name,
            ts=self.ts,
            cash=self.cash,
            equity=self.equity,
            starting_equity=self.starting_cash,
            realized_pnl=self.realized_pnl,
            unrealized_pnl=self.unrealized_pnl,
            commissions=self.commissions,
            slippage=self.slippage,
            peak_equity=self.peak_equity,
            fills=self.fills,
            positions=tuple(
                PositionView(
                    symbol,
                    p.quantity,
                    p.avg_price,
                    p.last_price,
                    p.unrealized_pnl,
                    p.realized_pnl,
                )
                for symbol, p in sorted(self.positions.items())
                if p.quantity != 0 or p.realized_pnl != 0
            ),
        )
