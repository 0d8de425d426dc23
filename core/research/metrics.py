"""Performance metrics of a backtest, from its equity curve and closed trades.

Annualisation: ``periods_per_year`` is bars per year counted over the
history's calendar span (``core.market.history.periods_per_year``).
Returns are simple per-bar returns of equity, the first against the starting
cash. Volatility, Sharpe and Sortino use those with a zero risk-free rate;
Sortino's downside deviation is the root mean square of the negative returns
over all bars. CAGR compounds over the calendar span. Trade statistics count
closed trades (an open trade is included only when closed at the end);
profit factor is gross profit over gross loss in money (backtesting.py
divides summed trade returns instead).
"""

from __future__ import annotations

import math

import numpy as np

from core.research.backtest import equity_metrics

METRIC_NAMES = (
    "total_return", "cagr", "volatility", "sharpe", "sortino", "max_drawdown", "calmar",
    "win_rate", "profit_factor", "trades", "exposure", "avg_trade", "best_trade",
    "worst_trade", "sqn", "equity_final",
)  # fmt: skip


def compute_metrics(
    equity: np.ndarray,
    start_cash: float,
    years: float,
    periods_per_year: float,
    trade_returns: np.ndarray,
    trade_pnls: np.ndarray,
    bars_in_market: int,
) -> dict[str, float]:
    total_return, max_drawdown, sharpe = equity_metrics(equity, start_cash, periods_per_year)
    previous = np.concatenate(([start_cash], equity[:-1]))
    returns = equity / previous - 1.0 if equity.size else np.zeros(0)
    volatility = (
        float(returns.std(ddof=1) * math.sqrt(periods_per_year)) if returns.size > 1 else 0.0
    )
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2))) if returns.size else 0.0
    mean = float(returns.mean()) if returns.size else 0.0
    sortino = mean / downside * math.sqrt(periods_per_year) if downside > 0 else 0.0
    final = float(equity[-1]) if equity.size else start_cash
    cagr = (final / start_cash) ** (1.0 / years) - 1.0 if years > 0 and final > 0 else 0.0
    calmar = cagr / max_drawdown if max_drawdown > 0 else 0.0
    wins = trade_pnls[trade_pnls > 0]
    losses = trade_pnls[trade_pnls < 0]
    count = trade_pnls.size
    gross_loss = -float(losses.sum())
    sqn = (
        math.sqrt(count) * float(trade_pnls.mean()) / float(trade_pnls.std(ddof=1))
        if count > 1 and trade_pnls.std(ddof=1) > 0
        else 0.0
    )
    return {
        "total_return": float(total_return),
        "cagr": cagr,
        "volatility": volatility,
        "sharpe": float(sharpe),
        "sortino": sortino,
        "max_drawdown": float(max_drawdown),
        "calmar": calmar,
        "win_rate": wins.size / count if count else 0.0,
        "profit_factor": float(wins.sum()) / gross_loss if gross_loss > 0 else 0.0,
        "trades": float(count),
        "exposure": bars_in_market / equity.size if equity.size else 0.0,
        "avg_trade": float(trade_returns.mean()) if count else 0.0,
        "best_trade": float(trade_returns.max()) if count else 0.0,
        "worst_trade": float(trade_returns.min()) if count else 0.0,
        "sqn": sqn,
        "equity_final": final,
    }
