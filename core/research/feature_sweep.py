"""Sweeps of a strategy with a ``FeatureModel``: each distinct feature once, then the rule.

The combinations go in blocks (``features.blocks``) whose features fit the
sweep's ``FeatureTable``. For each block, the features it needs and the table
does not hold are computed (once per distinct value), then every combination's
rule and backtest run:

- a compiled (numba) rule in one ``prange`` kernel made for it: the rule's
  arity (features, then parameters, int or float) is fixed per strategy, so
  the kernel is generated from source and compiled once per process and rule
  (a few seconds; numba cannot cache code that is not in a file);
- any other rule in a pool of threads (one thread: inline), as other rules do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numba
import numpy as np
from numba import njit, prange

from core.market.history import Bars
from core.research.features import FeatureModel, FeaturePlan, FeatureTable, table_rows
from core.research.metrics import METRIC_NAMES
from core.research.signals import apply_direction
from core.research.strategies.base import Params, Strategy
from core.research.sweep_parts import PARALLEL, evaluate_signals

Report = Callable[[int], None]
#: Combinations per launch of a compiled kernel at least: each launch costs the Python
#: around it (feature rows, values, threads waking), which at 256 cost a third of the
#: speed on 5,000 bars; 4,096 is still a fifth of a second of progress.
COMPILED_BLOCK = 4_096

_TEMPLATE = """\
def kernel(open_, high, low, close, volume, table, rows, values, start, direction,
           settings, flags, years, ppy):
    m = rows.shape[0]
    out = np.empty((m, metrics))
    o, h, lo, c = open_[start:], high[start:], low[start:], close[start:]
    for j in prange(m):
        codes = rule(open_, high, low, close, volume{arguments})
        signals = apply_direction(codes, direction)[start:]
        out[j] = evaluate_signals(o, h, lo, c, signals, settings, flags, years, ppy)
    return out
"""


@functools.cache
def compiled_sweep(rule: Callable[..., np.ndarray], features: int,
                   kinds: tuple[str, ...]) -> Callable[..., np.ndarray]:  # fmt: skip
    """The parallel kernel of a compiled ``rule`` taking ``features`` feature rows and
    parameters of ``kinds`` (``int`` or ``float``) from each combination's row of
    ``values``."""
    arguments = "".join(f", table[rows[j, {i}]]" for i in range(features))
    arguments += "".join(f", {kind}(values[j, {i}])" for i, kind in enumerate(kinds))
    namespace: dict[str, Any] = {
        "np": np, "prange": prange, "rule": rule, "apply_direction": apply_direction,
        "evaluate_signals": evaluate_signals, "metrics": len(METRIC_NAMES),
    }  # fmt: skip
    source = _TEMPLATE.format(arguments=arguments)  # numba takes no *args: one kernel per arity
    exec(compile(source, "<feature sweep>", "exec"), namespace)  # nosec B102  our template
    return njit(nogil=True, parallel=True)(namespace["kernel"])


def sweep_features(
    strategy: Strategy,
    model: FeatureModel,
    bars: Bars,
    combos: Sequence[Params],
    out: np.ndarray,
    arguments: tuple[Any, ...],
    *,
    start: int,
    workers: int,
    chunk: int,
    report: Report,
) -> None:
    """Fill ``out`` (one metrics row per combination) for ``combos`` by ``model``;
    ``arguments`` = (direction, settings, flags, years, ppy) as ``sweep`` has them.
    ``report(done)`` after each block (it raises ``Cancelled`` to stop)."""
    columns = tuple(bars[k] for k in ("open", "high", "low", "close", "volume"))
    names = [p.name for p in strategy.params]
    kinds = tuple(p.type.__name__ for p in strategy.params)
    values = np.array([[c[name] for name in names] for c in combos], dtype=np.float64)
    plan = FeaturePlan(model, values.reshape(len(combos), len(names)), names,
                       [p.type for p in strategy.params])  # fmt: skip
    features = FeatureTable(model, plan, bars, table_rows(model, columns[3].shape[0]))
    kernel = compiled_sweep(model.rule, len(model.features), kinds) if model.compiled else None
    pool = None
    if kernel is None and workers > 1:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sweep")
    done = 0
    try:
        size = max(chunk, COMPILED_BLOCK) if kernel is not None else chunk
        for block in plan.blocks(features.table.shape[0], size):
            rows = features.rows_of(block)
            if kernel is not None:
                with PARALLEL:
                    numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))
                    out[block] = kernel(*columns, features.table, rows, values[block], start,
                                        *arguments)  # fmt: skip
            else:
                typed = [[combos[k][name] for name in names] for k in block.tolist()]
                out[block] = _in_threads(model.rule, columns, features.table, rows, typed,
                                         start, arguments, pool)  # fmt: skip
            done += len(block)
            report(done)
    finally:
        if pool is not None:
            pool.shutdown()


def _in_threads(
    rule: Callable[..., np.ndarray],
    columns: tuple[np.ndarray, ...],
    table: np.ndarray,
    rows: np.ndarray,
    values: list[list[int | float]],
    start: int,
    arguments: tuple[Any, ...],
    pool: ThreadPoolExecutor | None,
) -> np.ndarray:
    """Metrics of each combination (its feature ``rows`` and parameter ``values``) by a
    Python ``rule``, in ``pool`` (None: inline). The rule sees the features read-only,
    so it cannot change one that other combinations share."""
    direction, settings, flags, years, ppy = arguments
    shared = table.view()
    shared.flags.writeable = False
    o, h, lo, c = (column[start:] for column in columns[:4])
    out = np.empty((len(values), len(METRIC_NAMES)))

    def evaluate(j: int) -> None:
        codes = rule(*columns, *shared[rows[j]], *values[j])
        signals = apply_direction(codes, direction)[start:]
        out[j] = evaluate_signals(o, h, lo, c, signals, settings, flags, years, ppy)

    if pool is None:
        for j in range(len(values)):
            evaluate(j)
    else:
        list(pool.map(evaluate, range(len(values))))
    return out
