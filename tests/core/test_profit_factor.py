"""A profit factor with no losing trade is infinite: the best a search can find, shown as
∞ everywhere, and null with a note in JSON (which has no infinity)."""

from __future__ import annotations

import json
import math

import numpy as np

from core import jsontext
from core.exports import figures as fig
from core.market.history import Bars
from core.research.backtest import BacktestConfig
from core.research.optimizer import Objective, Range, optimize
from core.research.runner import run_backtest
from core.research.strategies import get_strategy

SHORT = BacktestConfig(direction="short", close_at_end=True)


def falling_bars(n: int = 120) -> Bars:
    """A steady fall: a short breakout rule's trades all win."""
    close = 100.0 * np.exp(-0.03 * np.arange(n))
    open_ = np.r_[close[0], close[:-1]]
    return {
        "ts": 1_704_067_200.0 + 86_400.0 * np.arange(n),  # daily from 2024-01-01
        "open": open_,
        "high": np.maximum(open_, close) * 1.005,
        "low": np.minimum(open_, close) * 0.995,
        "close": close,
        "volume": np.full(n, 1000.0),
    }


def test_only_winning_trades_give_an_infinite_profit_factor() -> None:
    result = run_backtest(get_strategy("donchian_breakout"), falling_bars(), None, SHORT)
    closed = [t for t in result.trades if t.exit_time is not None]
    assert closed and all(t.pnl > 0 for t in closed)
    assert result.metrics["profit_factor"] == math.inf


def test_a_search_for_the_best_profit_factor_ranks_the_lossless_set_first() -> None:
    bars = falling_bars()
    for method in ("grid", "tpe"):
        found = optimize(
            get_strategy("donchian_breakout"), bars, {"entry": Range(10, 30, 5)},
            method=method, trials=6, objective=Objective("profit_factor"), config=SHORT,
        )  # fmt: skip
        assert found.best is not None
        assert found.best.metrics["profit_factor"] == math.inf, method


def test_json_has_null_and_a_note_where_the_profit_factor_is_infinite() -> None:
    document = {"metrics": {"profit_factor": math.inf, "sharpe": 1.5}, "rows": [{"x": math.nan}]}
    text = jsontext.dumps(document)
    assert json.loads(text) == {
        "metrics": {
            "profit_factor": None,
            "profit_factor_note": "infinite: no losing trades",
            "sharpe": 1.5,
        },
        "rows": [{"x": None}],
    }


def test_an_infinite_profit_factor_reads_as_infinity_in_reports_and_on_screen() -> None:
    from console import formatting as fmt
    from console.widgets.metrics_panel import formatted

    assert fig.metric("profit_factor", math.inf) == "∞"
    assert fmt.ratio(math.inf) == "∞"
    metrics = run_backtest(get_strategy("donchian_breakout"), falling_bars(), None, SHORT).metrics
    assert formatted(metrics)["profit_factor"] == "∞"
