"""Research speed: Quarterdeck, vectorbt and backtesting.py on the same data, in one run.

    .venv/bin/python -m bench.research_speed          # prints the table and
                                                      # rewrites it in bench/README.md

Every case runs in its own child process, so its peak memory (ru_maxrss) is its
own. Data: the 5,031-bar S&P 500 daily series the ``arch`` package ships, and
1,000,000 simulated one-minute bars. The rule everywhere: SMA crossover, long
only, next-open fills, whole units (vectorbt: fractional, its natural mode),
no commission.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

README = Path(__file__).with_name("README.md")
BEGIN, END = "<!-- research-speed:begin -->", "<!-- research-speed:end -->"
SWEEP = {"fast": (5, 50), "slow": (10, 200)}  # fast < slow: 7,925 combinations


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    action()  # warm-up: numba compile or cache load, pandas caches
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def sp500_frame():
    from arch.data import sp500

    return sp500.load()[["Open", "High", "Low", "Close", "Volume"]]


def sweep_pairs() -> list[tuple[int, int]]:
    return [
        (f, s)
        for f in range(SWEEP["fast"][0], SWEEP["fast"][1] + 1)
        for s in range(SWEEP["slow"][0], SWEEP["slow"][1] + 1)
        if f < s
    ]


def million_bars():
    from core.market.history import simulated_bars

    return simulated_bars("BTCUSD", 7, 1_000_000, 60, 60)


# --- cases: each returns {"value": ..., "unit": ...} -------------------------------


def qd_backtest() -> dict:
    from core.research.runner import run_backtest
    from core.research.strategies import get_strategy
    from tests.core.data import bars_from

    bars = bars_from(sp500_frame())
    strategy = get_strategy("sma_cross")
    seconds = median_seconds(lambda: run_backtest(strategy, bars, {"fast": 10, "slow": 30}), 300)
    return {"value": seconds * 1000, "unit": "ms"}


def bt_backtest() -> dict:
    from backtesting import Backtest

    from tests.core.test_parity_backtesting_py import LongOnlySmaCross

    reference = Backtest(sp500_frame(), LongOnlySmaCross, cash=100_000)
    seconds = median_seconds(lambda: reference.run(fast=10, slow=30), 10)
    return {"value": seconds * 1000, "unit": "ms"}


def vbt_run(close, open_, fast: int, slow: int, freq: str = "1D"):
    import numpy as np
    import vectorbt as vbt

    fast_ma = close.rolling(fast).mean()
    slow_ma = close.rolling(slow).mean()
    entries = (fast_ma > slow_ma) & (fast_ma.shift(1) < slow_ma.shift(1))
    exits = (fast_ma < slow_ma) & (fast_ma.shift(1) > slow_ma.shift(1))
    return vbt.Portfolio.from_signals(
        close, entries.shift(1, fill_value=False), exits.shift(1, fill_value=False),
        price=open_, init_cash=100_000, size=np.inf, freq=freq,
    )  # fmt: skip


def vbt_backtest() -> dict:
    frame = sp500_frame()

    def once() -> None:
        portfolio = vbt_run(frame.Close, frame.Open, 10, 30)
        portfolio.stats()  # metrics
        portfolio.trades.records_readable  # noqa: B018 - the trade list

    return {"value": median_seconds(once, 10) * 1000, "unit": "ms"}


def qd_sweep() -> dict:
    from core.research.optimizer import Range, grid_combinations
    from core.research.strategies import get_strategy
    from core.research.sweep import sweep
    from tests.core.data import bars_from

    bars = bars_from(sp500_frame())
    strategy = get_strategy("sma_cross")
    space = {name: Range(*bounds) for name, bounds in SWEEP.items()}
    combos = grid_combinations(strategy, space)
    seconds = median_seconds(lambda: sweep(strategy, bars, combos), 5)
    return {"value": len(combos) / seconds, "unit": "combos/s"}


def bt_sweep() -> dict:
    """Sequential runs over the first 40 combinations (its optimize() forks processes)."""
    from backtesting import Backtest

    from tests.core.test_parity_backtesting_py import LongOnlySmaCross

    reference = Backtest(sp500_frame(), LongOnlySmaCross, cash=100_000)
    pairs = sweep_pairs()[:40]
    reference.run(fast=10, slow=30)
    started = time.perf_counter()
    for fast, slow in pairs:
        reference.run(fast=fast, slow=slow)
    return {"value": len(pairs) / (time.perf_counter() - started), "unit": "combos/s"}


def vbt_sweep() -> dict:
    """All 7,925 combinations as one broadcast portfolio, vectorbt's own way."""
    import numpy as np
    import vectorbt as vbt

    frame = sp500_frame()
    pairs = sweep_pairs()
    fast_w = [f for f, _ in pairs]
    slow_w = [s for _, s in pairs]
    close = frame.Close

    def once() -> None:
        fast = vbt.MA.run(close, fast_w, short_name="fast")
        slow = vbt.MA.run(close, slow_w, short_name="slow")
        entries = fast.ma_crossed_above(slow).shift(1, fill_value=False)
        exits = fast.ma_crossed_below(slow).shift(1, fill_value=False)
        portfolio = vbt.Portfolio.from_signals(
            close, entries, exits, price=frame.Open, init_cash=100_000, size=np.inf, freq="1D"
        )
        portfolio.total_return()
        portfolio.sharpe_ratio()
        portfolio.max_drawdown()

    started = time.perf_counter()
    once()  # one cold-ish run is all this machine can afford in memory and time
    return {"value": len(pairs) / (time.perf_counter() - started), "unit": "combos/s"}


def qd_million() -> dict:
    from core.research.runner import run_backtest
    from core.research.strategies import get_strategy

    bars = million_bars()
    strategy = get_strategy("sma_cross")
    seconds = median_seconds(lambda: run_backtest(strategy, bars, {"fast": 10, "slow": 30}), 9)
    return {"value": seconds * 1000, "unit": "ms"}


def vbt_million() -> dict:
    import pandas as pd

    bars = million_bars()
    index = pd.to_datetime(bars["ts"], unit="s")
    close = pd.Series(bars["close"], index)
    open_ = pd.Series(bars["open"], index)

    def once() -> None:
        portfolio = vbt_run(close, open_, 10, 30, freq="1min")
        portfolio.total_return()
        portfolio.trades.records_readable  # noqa: B018

    return {"value": median_seconds(once, 3) * 1000, "unit": "ms"}


def qd_process() -> dict:
    """`quarterdeck backtest` as a whole process, as a user installs it: a fresh venv
    with the runtime dependencies only (the test extras bring SciPy, which numba
    imports on its first kernel load), warm numba cache, 5 runs after one."""
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        venv = Path(folder) / "venv"
        source = Path(folder) / "source"  # a clean copy: building leaves build/ behind
        source.mkdir()
        archive = subprocess.run(["git", "-C", str(root), "archive", "HEAD"], check=True,
                                 capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(source)], check=True)
        path = Path(folder) / "sp500.csv"
        sp500_frame().to_csv(path)
        command = [str(venv / "bin" / "quarterdeck"), "backtest", "sma_cross", "--data",
                   str(path), "--json"]  # fmt: skip

        def once() -> None:
            subprocess.run(command, check=True, capture_output=True, cwd=folder)

        return {"value": median_seconds(once, 5) * 1000, "unit": "ms"}


CASES: dict[str, Callable[[], dict]] = {
    f.__name__: f
    for f in (
        qd_backtest,
        bt_backtest,
        vbt_backtest,
        qd_sweep,
        bt_sweep,
        vbt_sweep,
        qd_million,
        vbt_million,
        qd_process,
    )
}


def run_case(name: str) -> None:
    warnings.simplefilter("ignore")
    result = CASES[name]()
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(name: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "bench.research_speed", "--case", name],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def fmt(result: dict) -> str:
    value = result["value"]
    shown = f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"
    return f"{shown} {result['unit']}"


def table(results: dict[str, dict]) -> str:
    def ratio(ours: str, theirs: str, higher_is_better: bool) -> str:
        a, b = results[ours]["value"], results[theirs]["value"]
        return f"{(a / b if higher_is_better else b / a):,.0f}x"

    rows = [
        ("One backtest with metrics and trade list, 5,031 bars", "qd_backtest",
         "vbt_backtest", "bt_backtest", False, "≤ 1 ms"),
        ("Sweep of 7,925 combinations (fast 5..50, slow 10..200)", "qd_sweep",
         "vbt_sweep", "bt_sweep", True, "≥ 20,000 combos/s, < 1 GiB"),
        ("One backtest over 1,000,000 one-minute bars", "qd_million",
         "vbt_million", None, False, "≤ 50 ms, < 500 MiB"),
    ]  # fmt: skip
    lines = [
        "| case | Quarterdeck | vectorbt | backtesting.py | Quarterdeck vs vectorbt | "
        "vs backtesting.py | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, ours, vbt, bt, higher, target in rows:
        cells = [
            f"{fmt(results[ours])}, {results[ours]['peak_mib']:,.0f} MiB",
            f"{fmt(results[vbt])}, {results[vbt]['peak_mib']:,.0f} MiB",
            f"{fmt(results[bt])}, {results[bt]['peak_mib']:,.0f} MiB" if bt else "not run",
            ratio(ours, vbt, higher),
            ratio(ours, bt, higher) if bt else "",
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    process = results["qd_process"]
    lines.append(
        f"| `quarterdeck backtest` as a whole process (runtime-only install, warm numba cache) | "
        f"{fmt(process)} | | | | | < 1.5 s |"
    )
    return "\n".join(lines)


def main() -> None:
    results = {}
    for name in CASES:
        results[name] = measure(name)
        print(
            f"{name}: {fmt(results[name])}, peak {results[name]['peak_mib']:,.0f} MiB", flush=True
        )
    rendered = table(results)
    print(rendered)
    text = README.read_text()
    block = f"{BEGIN}\n{rendered}\n{END}"
    README.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), block, text, flags=re.S))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        run_case(sys.argv[2])
    else:
        main()
