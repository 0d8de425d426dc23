"""Performance metrics of a backtest, from its equity curve and its trades.

Annualisation: ``periods_per_year`` is bars per year counted over the
history's calendar span (``core.market.history.periods_per_year``).
Returns are simple per-bar returns of equity, the first against the starting
cash. Volatility, Sharpe and Sortino use those with a zero risk-free rate;
Sortino's downside deviation is the root mean square of the negative returns
over all bars. CAGR compounds over the calendar span. Trade statistics count
closed trades (an open trade is included only when closed at the end);
profit factor is gross profit over gross loss in money (backtesting.py
divides summed trade returns instead): infinite when trades won and none
lost (JSON has no infinity: ``core.jsontext`` writes it as null beside a
``profit_factor_note``), 0 when nothing won. Exposure is the share of bars
that end with a position on.

A bankrupt run (``core.research.backtest``: equity reached 0, the run
stopped) has a final equity of 0, a total return and a CAGR of -100%, a max
drawdown of 100%, its return statistics over the bars up to its bankruptcy,
and no positive Sharpe, Sortino or Calmar.

The kernel works on the backtest kernel's raw outputs, so a sweep gets every
metric without building a trade list.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from core.research.backtest import equity_metrics, return_deviation, trading_bars

METRIC_NAMES = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
    "win_rate", "profit_factor", "trades", "exposure", "avg_trade", "best_trade",
    "worst_trade", "sqn", "equity_final",
)  # fmt: skip
METRIC_INDEX = {name: i for i, name in enumerate(METRIC_NAMES)}


@njit(cache=True, nogil=True)
def metrics_kernel(
    equity: np.ndarray,
    start_cash: float,
    years: float,
    periods_per_year: float,
    trade_index: np.ndarray,
    trade_price: np.ndarray,
    trade_numbers: np.ndarray,
    count: int,
) -> np.ndarray:
    """The metrics, in ``METRIC_NAMES`` order, of one run of ``backtest_kernel``."""
    out = np.zeros(len(METRIC_NAMES))
    n = equity.shape[0]
    basics = equity_metrics(equity, start_cash, periods_per_year)
    total_return, max_drawdown, sharpe = basics[0], basics[1], basics[2]
    traded = equity[: trading_bars(equity)]  # a bankrupt run's returns end at its bankruptcy
    wiped = n > 0 and equity[n - 1] <= 0.0

    total = 0.0
    downside_sq = 0.0
    previous = start_cash
    for i in range(traded.shape[0]):
        r = traded[i] / previous - 1.0
        total += r
        if r < 0.0:
            downside_sq += r * r
        previous = traded[i]
    volatility = 0.0
    sortino = 0.0
    m = traded.shape[0]
    if m > 1:
        volatility = return_deviation(traded, start_cash, total / m) * math.sqrt(periods_per_year)
    if m > 0:
        downside = math.sqrt(downside_sq / m)
        if downside > 0.0:
            sortino = (total / m) / downside * math.sqrt(periods_per_year)
    final = equity[n - 1] if n > 0 else start_cash
    cagr = 0.0
    if years > 0.0 and final > 0.0:
        cagr = (final / start_cash) ** (1.0 / years) - 1.0
    if wiped:  # everything lost: -100% a year, and no ratio of the run is positive
        cagr = -1.0
        sortino = min(sortino, 0.0)
    calmar = cagr / max_drawdown if max_drawdown > 0.0 else 0.0

    closed = 0
    wins = 0
    gross_profit = 0.0
    gross_loss = 0.0
    pnl_sum = 0.0
    return_sum = 0.0
    best = -np.inf
    worst = np.inf
    in_market = 0
    for k in range(count):
        entry, exit_ = trade_index[k, 0], trade_index[k, 1]
        if exit_ < 0:
            in_market += n - entry
            continue
        in_market += exit_ - entry
        pnl = trade_numbers[k, 1]
        ret = pnl / abs(trade_numbers[k, 0] * trade_price[k, 0])
        closed += 1
        pnl_sum += pnl
        return_sum += ret
        best = max(best, ret)
        worst = min(worst, ret)
        if pnl > 0.0:
            wins += 1
            gross_profit += pnl
        elif pnl < 0.0:
            gross_loss -= pnl
    sqn = 0.0
    if closed > 1:  # two-pass deviation of the closed trades' PnL
        mean_pnl = pnl_sum / closed
        squares = 0.0
        for k in range(count):
            if trade_index[k, 1] >= 0:
                squares += (trade_numbers[k, 1] - mean_pnl) ** 2
        if squares > 0.0:
            sqn = math.sqrt(closed) * mean_pnl / math.sqrt(squares / (closed - 1))

    out[0] = total_return
    out[1] = cagr
    out[2] = volatility
    out[3] = sharpe
    out[4] = sortino
    out[5] = max_drawdown
    out[6] = calmar
    out[7] = wins / closed if closed else 0.0
    if gross_loss > 0.0:
        out[8] = gross_profit / gross_loss
    elif gross_profit > 0.0:
        out[8] = np.inf  # no losing trade: profit without loss, the best a profit factor gets
    out[9] = closed
    out[10] = in_market / n if n else 0.0
    out[11] = return_sum / closed if closed else 0.0
    out[12] = best if closed else 0.0
    out[13] = worst if closed else 0.0
    out[14] = sqn
    out[15] = final
    return out


def as_dict(values: np.ndarray) -> dict[str, float]:
    """A metrics vector from ``metrics_kernel`` by name."""
    return {name: float(values[i]) for i, name in enumerate(METRIC_NAMES)}
