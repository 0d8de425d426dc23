"""The backtest kernel: a single-asset, bar-by-bar account simulation, and its metrics.

Conventions (each configurable through ``BacktestConfig``):

- A strategy's signal is read at each bar's close. A signal that differs from
  the position held becomes a market order, filled at the next bar's open
  (``fill="next_open"``, the default) or at the same close (``fill="close"``).
  One order per signal: an entry too small to fill is cancelled, not retried.
- Entries size to ``size`` (a fraction) of equity: whole units
  ``(equity * size - fixed_fee) // (price * (1 + commission))`` by default, or
  fractional units without the floor.
- Costs: ``commission`` is a fraction of each fill's notional plus
  ``fixed_fee`` per fill; slippage moves each fill price ``slippage_bps``
  basis points against the trade.
- Stop-loss and take-profit are fractions of the entry price, watched from
  the bar after the entry; a bar that gaps through a level fills at its open;
  when both levels are inside one bar the stop is assumed hit first. After
  either, the position stays flat until the strategy signals again.
- A position open at the end is marked to market, not closed, unless
  ``close_at_end`` (then it is sold at the last close, with costs).
- An account whose equity at a close is zero or below is bankrupt, as in
  backtesting.py: its position is closed at that close (with the costs of
  any fill), the run stops, and equity is 0 from that bar on. So a run is
  bankrupt exactly when its final equity is 0, and its first zero is the bar
  (``bankrupt_bar``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numba import njit

from core import bounds
from core.research.signals import HOLD, target_position

Fill = Literal["next_open", "close"]
Units = Literal["whole", "fractional"]
Side = Literal["long", "short", "both"]


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    cash: float = 100_000.0
    commission: float = 0.0
    fixed_fee: float = 0.0
    slippage_bps: float = 0.0
    fill: Fill = "next_open"
    units: Units = "whole"
    size: float = 1.0
    stop_loss: float | None = None
    take_profit: float | None = None
    close_at_end: bool = False
    direction: Side | None = None  # None: the strategy's own direction

    def __post_init__(self) -> None:
        numbers = {"cash": bounds.CASH, "commission": bounds.COMMISSION,
                   "fixed_fee": bounds.FEE, "slippage_bps": bounds.SLIPPAGE_BPS,
                   "size": bounds.FRACTION, "stop_loss": bounds.STOP_LOSS,
                   "take_profit": bounds.TAKE_PROFIT}  # fmt: skip
        for name, bound in numbers.items():
            value = getattr(self, name)
            if value is not None:
                try:
                    bound.check(value)
                except bounds.OutOfBounds as exc:
                    raise ValueError(f"{name}: {exc}") from None
        checks = [
            (self.fill in ("next_open", "close"), "fill must be next_open or close"),
            (self.units in ("whole", "fractional"), "units must be whole or fractional"),
            (
                self.direction in (None, "long", "short", "both"),
                "direction must be long, short or both",
            ),
        ]
        for holds, message in checks:
            if not holds:
                raise ValueError(message)


@njit(cache=True, nogil=True)
def fill_price(price: float, direction: int, slippage: float) -> float:
    """The price a market order fills at: ``slippage`` (a fraction) against the trade.

    The one definition of slippage, used by the backtest and the paper broker.
    """
    return price * (1.0 + slippage) if direction > 0 else price * (1.0 - slippage)


@njit(cache=True, nogil=True)
def fill_cost(quantity: float, price: float, commission: float, fixed_fee: float) -> float:
    """Costs of one fill: ``commission`` of its notional plus ``fixed_fee``."""
    return commission * quantity * price + fixed_fee


@njit(cache=True, nogil=True)
def backtest_kernel(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    signals: np.ndarray,
    cash: float,
    size: float,
    commission: float,
    fixed_fee: float,
    slippage: float,
    fill_on_close: bool,
    whole_units: bool,
    stop_loss: float,  # 0 = none
    take_profit: float,  # 0 = none
    close_at_end: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Run the account over the bars.

    Returns the equity after each close (0 from a bankruptcy on); ``trade_index``
    (n, 2): entry and exit bar (-1 while open); ``trade_price`` (n, 2): entry and exit fill price;
    ``trade_numbers`` (n, 2): signed units and net PnL (both legs' costs; for
    an open trade, minus its entry costs); and the number of trades.
    """
    n = close.shape[0]
    equity = np.empty(n)
    capacity = 1  # every trade starts on a signal, so this many rows always suffice
    for i in range(n):
        if signals[i] != HOLD:
            capacity += 1
    trade_index = np.full((capacity, 2), -1, dtype=np.int64)
    trade_price = np.zeros((capacity, 2))
    trade_numbers = np.zeros((capacity, 2))
    count = 0
    units = 0.0  # signed
    entry_price = 0.0
    entry_cost = 0.0
    pending = HOLD  # an order waiting for the next open

    for i in range(n + 1):
        last = i == n
        # 1. orders from the previous close, filled at this bar's open
        if not last and pending != HOLD:
            cash, units, count, entry_price, entry_cost = _execute(
                pending, open_[i], i, cash, units, count, entry_price, entry_cost,
                size, commission, fixed_fee, slippage, whole_units,
                trade_index, trade_price, trade_numbers,
            )  # fmt: skip
            pending = HOLD
        if last:
            break
        # 2. protective exits inside this bar (from the bar after the entry)
        if units != 0.0 and trade_index[count - 1, 0] < i and (stop_loss > 0 or take_profit > 0):
            exit_at = _protective_exit(
                units, entry_price, open_[i], high[i], low[i], stop_loss, take_profit
            )
            if exit_at > 0:
                cash, units, count, entry_price, entry_cost = _execute(
                    0, exit_at, i, cash, units, count, entry_price, entry_cost,
                    size, commission, fixed_fee, slippage, whole_units,
                    trade_index, trade_price, trade_numbers,
                )  # fmt: skip
        # 3. the strategy's signal at this close
        position = 0 if units == 0.0 else (1 if units > 0 else -1)
        target = target_position(signals[i], position)
        if target != HOLD:
            if fill_on_close:
                cash, units, count, entry_price, entry_cost = _execute(
                    target, close[i], i, cash, units, count, entry_price, entry_cost,
                    size, commission, fixed_fee, slippage, whole_units,
                    trade_index, trade_price, trade_numbers,
                )  # fmt: skip
            else:
                pending = target
        equity[i] = cash + units * close[i]
        if equity[i] <= 0.0:  # wiped out: liquidate at this close and stop trading
            if units != 0.0:
                cash, units, count, entry_price, entry_cost = _execute(
                    0, close[i], i, cash, units, count, entry_price, entry_cost,
                    size, commission, fixed_fee, slippage, whole_units,
                    trade_index, trade_price, trade_numbers,
                )  # fmt: skip
            equity[i:] = 0.0
            return equity, trade_index, trade_price, trade_numbers, count

    if close_at_end and units != 0.0 and n > 0:
        cash, units, count, entry_price, entry_cost = _execute(
            0, close[n - 1], n - 1, cash, units, count, entry_price, entry_cost,
            size, commission, fixed_fee, slippage, whole_units,
            trade_index, trade_price, trade_numbers,
        )  # fmt: skip
        equity[n - 1] = max(cash, 0.0)  # costs that wipe the account out end it too
    return equity, trade_index, trade_price, trade_numbers, count


@njit(cache=True, nogil=True)
def _protective_exit(
    units: float, entry: float, open_: float, high: float, low: float, stop: float, take: float
) -> float:
    """The price a stop-loss or take-profit fills at in this bar, or 0 if neither is hit."""
    if units > 0:
        if stop > 0:
            level = entry * (1.0 - stop)
            if open_ <= level:
                return open_
            if low <= level:
                return level
        if take > 0:
            level = entry * (1.0 + take)
            if open_ >= level:
                return open_
            if high >= level:
                return level
    else:
        if stop > 0:
            level = entry * (1.0 + stop)
            if open_ >= level:
                return open_
            if high >= level:
                return level
        if take > 0:
            level = entry * (1.0 - take)
            if open_ <= level:
                return open_
            if low <= level:
                return level
    return 0.0


@njit(cache=True, nogil=True)
def _execute(
    target, price, i, cash, units, count, entry_price, entry_cost,
    size, commission, fixed_fee, slippage, whole_units,
    trade_index, trade_price, trade_numbers,
):  # fmt: skip
    """Move the position to ``target`` (+1, 0, -1) with market orders at ``price``."""
    if units != 0.0:  # close the open trade
        direction = -1 if units > 0 else 1
        fill = fill_price(price, direction, slippage)
        cost = fill_cost(abs(units), fill, commission, fixed_fee)
        cash += units * fill - cost
        trade_index[count - 1, 1] = i
        trade_price[count - 1, 1] = fill
        trade_numbers[count - 1, 1] = units * (fill - entry_price) - entry_cost - cost
        units = 0.0
    if target != 0:
        fill = fill_price(price, target, slippage)
        budget = cash * size - fixed_fee
        if whole_units:
            quantity = budget // (fill * (1.0 + commission))
        else:
            quantity = budget / (fill * (1.0 + commission))
        if quantity > 0:
            units = quantity * target
            entry_cost = fill_cost(quantity, fill, commission, fixed_fee)
            cash -= units * fill + entry_cost
            entry_price = fill
            trade_index[count, 0] = i
            trade_index[count, 1] = -1
            trade_price[count, 0] = fill
            trade_numbers[count, 0] = units
            trade_numbers[count, 1] = -entry_cost  # PnL so far; replaced when it closes
            count += 1
    return cash, units, count, entry_price, entry_cost


def bankrupt_bar(equity: np.ndarray) -> int | None:
    """The bar at which the account was wiped out (its equity's first zero), or None."""
    wiped = np.flatnonzero(equity <= 0.0)
    return int(wiped[0]) if wiped.size else None


@njit(cache=True, nogil=True)
def equity_metrics(equity: np.ndarray, start_cash: float, periods_per_year: float) -> np.ndarray:
    """[total_return, max_drawdown, sharpe] of an equity curve.

    Sharpe is the mean over the standard deviation (ddof 1) of per-bar simple
    returns, times sqrt(periods_per_year), with a zero risk-free rate.
    Max drawdown is the largest fall from a running peak, as a positive fraction.
    A bankrupt run's returns end at its bankruptcy (a -100% bar), and its Sharpe
    is never positive, whatever the bars before did.
    """
    out = np.zeros(3)
    if equity.shape[0] == 0:
        return out
    wiped = equity[equity.shape[0] - 1] <= 0.0
    equity = equity[: trading_bars(equity)]
    n = equity.shape[0]
    out[0] = equity[n - 1] / start_cash - 1.0
    peak = start_cash
    worst = 0.0
    previous = start_cash
    total = 0.0
    for i in range(n):
        value = equity[i]
        if value > peak:
            peak = value
        drawdown = 1.0 - value / peak
        if drawdown > worst:
            worst = drawdown
        total += value / previous - 1.0
        previous = value
    out[1] = worst
    if n > 1:
        mean = total / n
        deviation = return_deviation(equity, start_cash, mean)
        if deviation > 1e-9:
            out[2] = mean / deviation * math.sqrt(periods_per_year)
    if wiped:
        out[2] = min(out[2], 0.0)
    return out


@njit(cache=True, nogil=True)
def trading_bars(equity: np.ndarray) -> int:
    """How many bars the account traded: through its bankruptcy (equity's first zero)
    if it went bankrupt, else all of them. Returns end there: nothing is a return on 0."""
    n = equity.shape[0]
    if n == 0 or equity[n - 1] > 0.0:
        return n
    for i in range(n):
        if equity[i] <= 0.0:
            return i + 1
    return n


@njit(cache=True, nogil=True)
def return_deviation(equity: np.ndarray, start_cash: float, mean: float) -> float:
    """Sample standard deviation (ddof 1) of per-bar returns around ``mean``, two-pass."""
    n = equity.shape[0]
    squares = 0.0
    previous = start_cash
    for i in range(n):
        d = equity[i] / previous - 1.0 - mean
        squares += d * d
        previous = equity[i]
    return math.sqrt(squares / (n - 1)) if n > 1 else 0.0


def run_kernel(
    bars: dict[str, np.ndarray], signals: np.ndarray, config: BacktestConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """``backtest_kernel`` with its arguments taken from ``bars`` and ``config``."""
    return backtest_kernel(
        bars["open"], bars["high"], bars["low"], bars["close"], signals,
        config.cash, config.size, config.commission, config.fixed_fee,
        config.slippage_bps / 10_000.0, config.fill == "close", config.units == "whole",
        config.stop_loss or 0.0, config.take_profit or 0.0, config.close_at_end,
    )  # fmt: skip
