"""One backtest of one strategy over one bar history: trades, equity and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, overload

import numpy as np

from core.market.history import Bars, periods_per_year
from core.research.backtest import BacktestConfig, bankrupt_bar, run_kernel
from core.research.metrics import as_dict, metrics_kernel
from core.research.strategies import Params, Strategy

SECONDS_PER_YEAR = 365.25 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Trade:
    entry_time: float
    exit_time: float | None  # None while open
    entry_price: float
    exit_price: float | None
    size: float  # signed units
    pnl: float  # net of costs paid; an open trade is marked at the last close
    return_pct: float  # pnl over the entry notional
    bars_held: int

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["return"] = out.pop("return_pct")
        return out


class TradeTable:
    """The trades of a run as the kernel's arrays; ``Trade`` objects are made on access.

    A million-bar backtest can hold tens of thousands of trades; keeping them
    columnar keeps the run itself fast and small.
    """

    def __init__(
        self,
        ts: np.ndarray,
        last_close: float,
        index: np.ndarray,
        price: np.ndarray,
        numbers: np.ndarray,
        count: int,
    ) -> None:
        self._ts = ts
        self._last_close = last_close
        self._index = index[:count]
        self._price = price[:count]
        self._numbers = numbers[:count]

    def __len__(self) -> int:
        return self._index.shape[0]

    @overload
    def __getitem__(self, k: int) -> Trade: ...
    @overload
    def __getitem__(self, k: slice) -> list[Trade]: ...
    def __getitem__(self, k: int | slice) -> Trade | list[Trade]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        if k < 0:
            k += len(self)
        if not 0 <= k < len(self):
            raise IndexError(k)
        entry, exit_ = int(self._index[k, 0]), int(self._index[k, 1])
        units, entry_price = float(self._numbers[k, 0]), float(self._price[k, 0])
        if exit_ >= 0:
            pnl, exit_price, held = (
                float(self._numbers[k, 1]),
                float(self._price[k, 1]),
                exit_ - entry,
            )
        else:  # open: marked at the last close, net of the entry costs already paid
            pnl = float(self._numbers[k, 1]) + units * (self._last_close - entry_price)
            exit_price, held = None, self._ts.size - 1 - entry
        return Trade(
            entry_time=float(self._ts[entry]),
            exit_time=float(self._ts[exit_]) if exit_ >= 0 else None,
            entry_price=entry_price,
            exit_price=exit_price,
            size=units,
            pnl=pnl,
            return_pct=pnl / abs(units * entry_price),
            bars_held=held,
        )

    def __iter__(self) -> Iterator[Trade]:
        for k in range(len(self)):
            yield self[k]


@dataclass(frozen=True)
class BacktestResult:
    strategy: str
    params: Params
    config: BacktestConfig
    trades: TradeTable
    equity: np.ndarray
    metrics: dict[str, float]
    bankrupt_bar: int | None = None  # the bar the account was wiped out at; the run stopped
    bankrupt_time: float | None = None  # that bar's time

    @property
    def bankruptcy(self) -> str | None:
        """``bankrupt at bar N (time)``: the one wording every front end shows, or None."""
        if self.bankrupt_bar is None or self.bankrupt_time is None:
            return None
        when = datetime.fromtimestamp(self.bankrupt_time, UTC).isoformat()
        return f"bankrupt at bar {self.bankrupt_bar:,} ({when})"


def years_spanned(ts: np.ndarray) -> float:
    return float(ts[-1] - ts[0]) / SECONDS_PER_YEAR if ts.size > 1 else 0.0


def run_backtest(
    strategy: Strategy,
    bars: Bars,
    params: Params | None = None,
    config: BacktestConfig | None = None,
    start: int = 0,
) -> BacktestResult:
    """Backtest ``strategy`` over ``bars``; with ``start``, the bars before it only warm
    the indicators up (no trades) and the result covers ``bars[start:]`` alone."""
    config = config or BacktestConfig()
    resolved = strategy.resolve(params)
    signals = strategy.signals(bars, resolved, config.direction)
    if start:  # signals from the whole history, trading from `start` on
        signals = signals[start:]
        bars = {name: column[start:] for name, column in bars.items()}
    equity, index, price, numbers, count = run_kernel(bars, signals, config)
    ts = bars["ts"]
    metrics = metrics_kernel(
        equity, config.cash, years_spanned(ts), periods_per_year(ts), index, price, numbers, count
    )
    last_close = float(bars["close"][-1]) if ts.size else 0.0
    trades = TradeTable(ts, last_close, index, price, numbers, count)
    wiped = bankrupt_bar(equity)
    return BacktestResult(
        strategy.id, resolved, config, trades, equity, as_dict(metrics),
        wiped, None if wiped is None else float(ts[wiped]),
    )  # fmt: skip
