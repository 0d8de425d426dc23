"""Where sweeps run: in this process (the default), or on a Dask cluster.

An executor evaluates parameter sets the way ``sweep`` does and returns the
same metrics table, row for row, to the bit: the cluster runs the very same
kernels on the same inputs, only in other processes. Searches and batches take
an executor and never need to know which one they were given.

``executor_for("local")`` is this process; ``executor_for("dask://HOST:PORT")``
(or ``tcp://HOST:PORT``, Dask's own spelling) a cluster's scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import numpy as np

from core.executor_spec import check_executor_spec
from core.market.history import Bars
from core.research.backtest import BacktestConfig
from core.research.strategies import Params, Strategy
from core.research.sweep import Cancelled, ProgressCallback, sweep

#: One sweep of many: a strategy, its bars and the parameter sets to evaluate.
SweepTask = tuple[Strategy, Bars, Sequence[Params]]


class SweepExecutor(Protocol):
    #: How the executor is named in settings, logs and job results.
    spec: str

    def sweep(
        self,
        strategy: Strategy,
        bars: Bars,
        combos: Sequence[Params],
        config: BacktestConfig,
        *,
        start: int = 0,
        progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> np.ndarray:
        """``sweep``'s table for ``combos``; ``Cancelled`` once ``should_stop()``."""
        ...

    def sweep_each(
        self,
        tasks: Sequence[SweepTask],
        config: BacktestConfig,
        *,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[np.ndarray]:
        """Each task's table, in the tasks' order (an executor may run them at once)."""
        ...

    def close(self) -> None: ...


class LocalExecutor:
    """Sweeps in this process, on the thread budget ``sweep`` is given."""

    spec = "local"

    def sweep(
        self,
        strategy: Strategy,
        bars: Bars,
        combos: Sequence[Params],
        config: BacktestConfig,
        *,
        start: int = 0,
        progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> np.ndarray:
        return sweep(strategy, bars, combos, config, start=start, progress=progress,
                     should_stop=should_stop)  # fmt: skip

    def sweep_each(
        self,
        tasks: Sequence[SweepTask],
        config: BacktestConfig,
        *,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[np.ndarray]:
        for strategy, bars, combos in tasks:
            if should_stop():
                raise Cancelled
            yield sweep(strategy, bars, combos, config, should_stop=should_stop)

    def close(self) -> None:
        """Nothing to release."""


LOCAL = LocalExecutor()


def executor_for(spec: str) -> SweepExecutor:
    """The executor ``spec`` names (checked first). A cluster is connected to on first use."""
    if check_executor_spec(spec) == "local":
        return LOCAL
    from core.research.dask_executor import DaskExecutor  # distributed loads only when asked

    return DaskExecutor(spec)
