"""The backtest kernel: a single-asset, bar-by-bar account simulation.

Conventions (the research issue extends these with options):

- the strategy's signal is read at each bar's close; a change of position is
  made at the next bar's open with a market order; long-only for now (a
  ``SHORT`` signal closes a long);
- entries buy whole units: ``floor(cash * fraction / (open * (1 + commission)))``;
- commission is a fraction of each fill's notional;
- equity is marked at every close; a position open at the end stays open and
  is marked to market.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from core.research.signals import HOLD, LONG


@njit(cache=True, nogil=True)
def simulate(
    open_: np.ndarray,
    close: np.ndarray,
    signals: np.ndarray,
    cash: float,
    fraction: float,
    commission: float,
) -> tuple[np.ndarray, int]:
    """Equity after each bar's close, and the number of round-trip or open trades."""
    n = close.shape[0]
    equity = np.empty(n)
    units = 0.0
    position = 0
    trades = 0
    pending = 0
    for i in range(n):
        if pending != position:
            price = open_[i]
            if position != 0:
                cash += units * price - commission * abs(units * price)
                units = 0.0
                position = 0
            if pending == 1:
                size = math.floor(cash * fraction / (price * (1.0 + commission)))
                if size > 0:
                    units = size
                    cash -= units * price + commission * units * price
                    position = 1
                    trades += 1
        equity[i] = cash + units * close[i]
        if signals[i] != HOLD:
            pending = 1 if signals[i] == LONG else 0
    return equity, trades


@njit(cache=True, nogil=True)
def equity_metrics(equity: np.ndarray, start_cash: float, periods_per_year: float) -> np.ndarray:
    """[total_return, max_drawdown, sharpe] of an equity curve.

    Sharpe is the mean over the standard deviation (ddof 1) of per-bar simple
    returns, times sqrt(periods_per_year), with a zero risk-free rate.
    Max drawdown is the largest fall from a running peak, as a positive fraction.
    """
    n = equity.shape[0]
    out = np.zeros(3)
    if n == 0:
        return out
    out[0] = equity[n - 1] / start_cash - 1.0
    peak = start_cash
    worst = 0.0
    previous = start_cash
    total = 0.0
    total_sq = 0.0
    for i in range(n):
        value = equity[i]
        if value > peak:
            peak = value
        drawdown = 1.0 - value / peak
        if drawdown > worst:
            worst = drawdown
        r = value / previous - 1.0
        total += r
        total_sq += r * r
        previous = value
    out[1] = worst
    if n > 1:
        mean = total / n
        variance = (total_sq - n * mean * mean) / (n - 1)
        if variance > 1e-18:
            out[2] = mean / math.sqrt(variance) * math.sqrt(periods_per_year)
    return out


@dataclass(frozen=True, slots=True)
class BacktestSummary:
    equity_final: float
    total_return: float
    max_drawdown: float
    sharpe: float
    trades: int

    def metric(self, name: str) -> float:
        return float(getattr(self, name))


def summarize(
    open_: np.ndarray,
    close: np.ndarray,
    signals: np.ndarray,
    cash: float,
    fraction: float,
    commission: float,
    periods_per_year: float,
) -> BacktestSummary:
    equity, trades = simulate(open_, close, signals, cash, fraction, commission)
    total_return, max_drawdown, sharpe = equity_metrics(equity, cash, periods_per_year)
    return BacktestSummary(
        float(equity[-1]) if equity.size else cash,
        float(total_return),
        float(max_drawdown),
        float(sharpe),
        int(trades),
    )
