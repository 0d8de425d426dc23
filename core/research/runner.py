"""One backtest of one strategy over one bar history: trades, equity and metrics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from core.market.history import Bars, periods_per_year
from core.research.backtest import BacktestConfig, run_kernel
from core.research.metrics import compute_metrics
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


@dataclass(frozen=True)
class BacktestResult:
    strategy: str
    params: Params
    config: BacktestConfig
    trades: tuple[Trade, ...]
    equity: np.ndarray
    metrics: dict[str, float]


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
    ts, close = bars["ts"], bars["close"]
    n = close.size
    trades = []
    bars_in_market = 0
    for k in range(count):
        entry, exit_ = int(index[k, 0]), int(index[k, 1])
        units, entry_price = float(numbers[k, 0]), float(price[k, 0])
        if exit_ >= 0:
            pnl, exit_price, held = float(numbers[k, 1]), float(price[k, 1]), exit_ - entry
            bars_in_market += held
        else:
            pnl = float(numbers[k, 1]) + units * (float(close[-1]) - entry_price)
            exit_price, held = None, n - 1 - entry
            bars_in_market += held + 1
        trades.append(
            Trade(
                entry_time=float(ts[entry]),
                exit_time=float(ts[exit_]) if exit_ >= 0 else None,
                entry_price=entry_price,
                exit_price=exit_price,
                size=units,
                pnl=pnl,
                return_pct=pnl / abs(units * entry_price),
                bars_held=held,
            )
        )
    closed = [t for t in trades if t.exit_time is not None]
    years = float(ts[-1] - ts[0]) / SECONDS_PER_YEAR if n > 1 else 0.0
    metrics = compute_metrics(
        equity,
        config.cash,
        years,
        periods_per_year(ts),
        np.array([t.return_pct for t in closed]),
        np.array([t.pnl for t in closed]),
        bars_in_market,
    )
    return BacktestResult(strategy.id, resolved, config, tuple(trades), equity, metrics)
