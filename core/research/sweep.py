"""Evaluate many parameter sets of one strategy at once: every metric, no trade lists.

Three paths, chosen per strategy:

- A rule declared as "fast feature crosses slow feature" (``Strategy.cross_feature``,
  the moving-average crossovers) computes each distinct window's feature once
  and runs all combinations in one ``prange`` kernel across the cores.
- A rule with a feature model (``Strategy.features``: user strategies declaring
  features, numba user functions) computes each distinct feature once and runs
  its rule and the backtest per combination in one generated ``prange`` kernel
  (a numba rule) or in threads (``core.research.feature_sweep``).
- Any other rule runs its signal kernel and the backtest per combination in a
  pool of threads; every kernel is compiled ``nogil``, so the threads run in
  parallel.

Work goes in chunks so progress is reported and a cancellation is honoured
between chunks. A sweep on one thread runs inline, without a pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit, prange

from core.market.history import Bars, periods_per_year
from core.research.backtest import BacktestConfig
from core.research.feature_sweep import sweep_features
from core.research.metrics import METRIC_NAMES
from core.research.runner import years_spanned
from core.research.signals import DIRECTION_CODES, apply_direction, crossover_signals
from core.research.strategies import Params, Strategy
from core.research.sweep_parts import (
    PARALLEL,
    Cancelled,
    ProgressCallback,
    chunks,
    evaluate_signals,
    settings_arrays,
)

__all__ = ["Cancelled", "ProgressCallback", "set_thread_budget", "sweep"]

_thread_budget = os.cpu_count() or 1


def set_thread_budget(threads: int) -> None:
    """The most threads one sweep uses from now on, in this process. A process that
    serves a console keeps a core free for its event loop (``Deck`` sets this from
    ``QD_JOB_THREADS``): a sweep on every core had slowed key presses several times."""
    global _thread_budget
    _thread_budget = max(1, min(threads, numba.config.NUMBA_NUM_THREADS))


@njit(cache=True, nogil=True, parallel=True)
def cross_sweep_kernel(
    open_: np.ndarray, high: np.ndarray, low: np.ndarray, close: np.ndarray,
    features: np.ndarray, fast_rows: np.ndarray, slow_rows: np.ndarray, start: int,
    direction: int, settings: np.ndarray, flags: np.ndarray, years: float, ppy: float,
) -> np.ndarray:  # fmt: skip
    """Metrics of every (fast row, slow row) crossover of precomputed ``features``.

    Signals come from the whole history; trading starts at bar ``start``.
    """
    m = fast_rows.shape[0]
    out = np.empty((m, len(METRIC_NAMES)))
    o, h, lo, c = open_[start:], high[start:], low[start:], close[start:]
    for j in prange(m):
        signals = crossover_signals(features[fast_rows[j]], features[slow_rows[j]])
        signals = apply_direction(signals, direction)[start:]
        out[j] = evaluate_signals(o, h, lo, c, signals, settings, flags, years, ppy)
    return out


def sweep(
    strategy: Strategy,
    bars: Bars,
    combos: Sequence[Params],
    config: BacktestConfig | None = None,
    *,
    start: int = 0,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    workers: int | None = None,
) -> np.ndarray:
    """Metrics (one row per combination, columns ``METRIC_NAMES``) of ``combos``,
    already resolved, over ``bars``; bars before ``start`` only warm indicators up."""
    config = config or BacktestConfig()
    settings, flags = settings_arrays(config)
    ts = bars["ts"][start:]
    years, ppy = years_spanned(ts), periods_per_year(ts)
    direction = DIRECTION_CODES[config.direction or strategy.direction]
    out = np.empty((len(combos), len(METRIC_NAMES)))
    workers = workers or _thread_budget
    chunk = max(256, 64 * workers)
    done = 0

    def report(count: int) -> None:
        nonlocal done
        done = count
        if progress is not None:
            progress(done, len(combos))
        if should_stop() and done < len(combos):
            raise Cancelled

    if should_stop():
        raise Cancelled
    if strategy.cross_feature is not None:
        feature = strategy.cross_feature
        windows = sorted({int(p["fast"]) for p in combos} | {int(p["slow"]) for p in combos})
        row = {w: i for i, w in enumerate(windows)}
        features = np.empty((len(windows), bars["close"].size))
        for w, i in row.items():
            features[i] = feature(bars["close"], w)
        fast_rows = np.array([row[int(p["fast"])] for p in combos], dtype=np.int64)
        slow_rows = np.array([row[int(p["slow"])] for p in combos], dtype=np.int64)
        for rows in chunks(len(combos), chunk):
            with PARALLEL:
                numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))
                out[rows.start : rows.stop] = cross_sweep_kernel(
                    bars["open"], bars["high"], bars["low"], bars["close"], features,
                    fast_rows[rows.start : rows.stop], slow_rows[rows.start : rows.stop], start,
                    direction, settings, flags, years, ppy,
                )  # fmt: skip
            report(rows.stop)
        return out
    if strategy.features is not None:
        arguments = (direction, settings, flags, years, ppy)
        sweep_features(strategy, strategy.features, bars, combos, out, arguments, start=start,
                       workers=workers, chunk=chunk, report=report)  # fmt: skip
        return out

    o, h, lo, c = (bars[k][start:] for k in ("open", "high", "low", "close"))

    def evaluate(k: int) -> None:
        signals = strategy.signals(bars, combos[k], config.direction)[start:]
        out[k] = evaluate_signals(o, h, lo, c, signals, settings, flags, years, ppy)

    if workers == 1:
        for rows in chunks(len(combos), chunk):
            for k in rows:
                evaluate(k)
            report(rows.stop)
        return out
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep") as pool:
        for rows in chunks(len(combos), chunk):
            list(pool.map(evaluate, rows))
            report(rows.stop)
    return out
