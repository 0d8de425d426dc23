"""User strategies' speed: the user's own function against the sweep of it, in one run.

    .venv/bin/python -m bench.sdk_speed        # prints the table and rewrites it
                                               # in bench/README.md

On 5,000 bars (the seeded random walk ``strategies check`` uses), the README's
channel breakout three ways, written into a private strategies folder and loaded
as a user's are: the plain pandas function (its own calls/s alone, then the
sweep's combos/s on one thread and on every core), a numba function declaring its
two channels as features (the sweep's combos/s, after the one compile), and the
built-in ``sma_cross`` on the same bars beside them. Grids: n 2..200 by m 2..200
for the numba form and sma_cross's fast 5..50 x slow 10..200 (fast < slow); the
plain function sweeps its first 1,000 combinations (it runs at about a thousandth
of the speed). Best of three timings after a warm-up, on a shared machine.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- sdk-speed:begin -->", "<!-- sdk-speed:end -->"

STRATEGIES = """\
import numpy as np
import pandas as pd
from numba import njit
from core.sdk import Feature, Param, strategy

PARAMS = [Param("n", int, default=20, min=2, max=200, step=1),
          Param("m", int, default=10, min=2, max=200, step=1)]


@strategy(id="channel_breakout", name="Channel breakout", params=PARAMS)
def channel_breakout(bars, n, m):
    close = bars["close"]
    upper = pd.Series(bars["high"]).rolling(n).max().shift(1).to_numpy()
    lower = pd.Series(bars["low"]).rolling(m).min().shift(1).to_numpy()
    return close > upper, close < lower


@njit(nogil=True)
def channel_high(high, n):
    out = np.full(high.shape[0], np.nan)
    for i in range(n, high.shape[0]):
        out[i] = high[i - n:i].max()
    return out


@njit(nogil=True)
def channel_low(low, m):
    out = np.full(low.shape[0], np.nan)
    for i in range(m, low.shape[0]):
        out[i] = low[i - m:i].min()
    return out


@strategy(id="fast_channel", name="Channel breakout, numba with features", params=PARAMS,
          features=[Feature("upper", channel_high, ("n",), inputs=("high",)),
                    Feature("lower", channel_low, ("m",), inputs=("low",))])
@njit
def fast_channel(open_, high, low, close, volume, upper, lower, n, m):
    return close > upper, close < lower
"""


def best_rate(count: int, action: Callable[[], object], repeats: int = 3) -> float:
    """The best of ``repeats`` timings of ``action`` as ``count`` per second."""
    action()  # warm-up: the numba compile, pandas caches
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return count / best


def measure() -> dict[str, float]:
    from core.research import strategy_sources
    from core.research.optimizer import Range, grid_combinations
    from core.research.strategies import get_strategy, load_errors
    from core.research.strategies.checking import history
    from core.research.strategies.user import COLUMNS, read_only_bars
    from core.research.sweep import sweep

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "channels.py"
        path.write_text(STRATEGIES)
        path.chmod(0o600)
        os.chmod(folder, 0o700)
        strategy_sources.use(Path(folder), entry_points=False)
        assert not load_errors(), load_errors()
        plain, fast = get_strategy("channel_breakout"), get_strategy("fast_channel")
    bars = history(5_000)
    grid = grid_combinations(fast, {"n": Range(2, 200), "m": Range(2, 200)})
    some = grid[:1_000]
    own = plain.signal.__wrapped__  # the user's function itself
    user_bars = read_only_bars(bars[c] for c in COLUMNS)
    sma = get_strategy("sma_cross")
    crosses = grid_combinations(sma, {"fast": Range(5, 50), "slow": Range(10, 200)})
    cores = os.cpu_count() or 1
    return {
        "own": best_rate(len(some), lambda: [own(user_bars, **c) for c in some]),
        "plain_1": best_rate(len(some), lambda: sweep(plain, bars, some, workers=1)),
        "plain_all": best_rate(len(some), lambda: sweep(plain, bars, some, workers=cores)),
        "fast": best_rate(len(grid), lambda: sweep(fast, bars, grid)),
        "sma": best_rate(len(crosses), lambda: sweep(sma, bars, crosses)),
        "grid": len(grid),
        "crosses": len(crosses),
        "cores": cores,
    }


def table(r: dict[str, float]) -> str:
    rows = [
        ("the user's own function alone (pandas rolling), calls/s", r["own"], "1"),
        ("its sweep, one thread, combos/s", r["plain_1"], f"{r['plain_1'] / r['own']:.2f}"),
        (f"its sweep, {r['cores']:.0f} threads, combos/s", r["plain_all"],
         f"{r['plain_all'] / r['own']:.2f}"),
        (f"numba + declared features, {r['grid']:,.0f} combinations, combos/s", r["fast"], ""),
        (f"built-in sma_cross, {r['crosses']:,.0f} combinations, combos/s", r["sma"], ""),
    ]  # fmt: skip
    lines = ["| case, 5,000 bars | speed | sweep / own function |", "| --- | --- | --- |"]
    lines += [f"| {label} | {value:,.0f} | {ratio} |" for label, value, ratio in rows]
    return "\n".join(lines)


def main() -> None:
    rendered = table(measure())
    print(rendered)
    text = README.read_text()
    block = f"{BEGIN}\n{rendered}\n{END}"
    README.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), block, text, flags=re.S))


if __name__ == "__main__":
    main()
