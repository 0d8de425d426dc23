"""One SMA-crossover backtest (10/30, with metrics and trade list) on the 5,031-bar
S&P 500 daily series the `arch` package ships: Quarterdeck against backtesting.py,
in one run, medians of repeated timings.

    .venv/bin/pip install arch   # bench-only dependency
    .venv/bin/python -m bench.backtest_speed
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable

from arch.data import sp500
from backtesting import Backtest

from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from tests.core.test_parity_backtesting_py import LongOnlySmaCross, bars_from


def median_ms(action: Callable[[], object], repeats: int) -> float:
    action()  # warm-up (numba compile or cache load, pandas caches)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    warnings.simplefilter("ignore")
    frame = sp500.load()[["Open", "High", "Low", "Close", "Volume"]]
    bars = bars_from(frame)
    strategy = get_strategy("sma_cross")
    config = BacktestConfig(cash=100_000.0)
    ours = median_ms(lambda: run_backtest(strategy, bars, {"fast": 10, "slow": 30}, config), 200)
    reference = Backtest(frame, LongOnlySmaCross, cash=100_000.0)
    theirs = median_ms(lambda: reference.run(fast=10, slow=30), 10)
    print(f"bars: {len(frame)}")
    print(f"quarterdeck run_backtest: {ours:.3f} ms")
    print(f"backtesting.py Backtest.run: {theirs:.1f} ms")
    print(f"ratio: {theirs / ours:.0f}x")


if __name__ == "__main__":
    main()
