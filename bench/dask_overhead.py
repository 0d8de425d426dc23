"""A sweep on a two-worker local Dask cluster against the same sweep in this process.

    .venv/bin/python -m bench.dask_overhead [--repeats 3]

Starts a ``distributed.LocalCluster`` (two worker processes, one thread each,
on 127.0.0.1), warms both paths (numba kernels loaded in every process, the
bars sent), then times each sweep ``--repeats`` times on the local executor and
on the cluster, and checks the two tables are equal to the bit. Prints the
medians, their ratio and the overhead per chunk: (cluster - local) / chunks.
On one machine the cluster has no more cores than the local executor, so the
ratio is the price of distribution, which a cluster of more machines repays.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from distributed import LocalCluster

from core.jobs.datasets import dataset_bars
from core.research.backtest import BacktestConfig
from core.research.dask_executor import DaskExecutor, chunk_size
from core.research.executors import LOCAL, SweepExecutor
from core.research.optimizer import Range, grid_combinations
from core.research.strategies import get_strategy

CONFIG = BacktestConfig(commission=0.0005)
SWEEPS = {
    # a cross rule: one parallel kernel per chunk over precomputed features
    "sma_cross": {"fast": Range(2, 100), "slow": Range(10, 400, 2)},
    # any other rule: signal kernel and backtest per parameter set, in threads
    "rsi_reversion": {"window": Range(2, 60), "lower": Range(10, 45), "upper": Range(55, 90, 5)},
}


def timed(executor: SweepExecutor, strategy_id: str, bars, combos, repeats: int):  # type: ignore[no-untyped-def]
    strategy = get_strategy(strategy_id)
    times, table = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        table = executor.sweep(strategy, bars, combos, CONFIG)
        times.append(time.perf_counter() - started)
    return statistics.median(times), table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--bars", type=int, default=20_000)
    args = parser.parse_args()
    bars = dataset_bars("sim:SPY", 7, args.bars)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:  # fmt: skip
        dask = DaskExecutor("dask://" + cluster.scheduler_address.removeprefix("tcp://"))
        threads = sum(dask.client().nthreads().values())
        print(f"{args.bars:,} bars; cluster: 2 worker processes x 1 thread; "
              f"local: this process; median of {args.repeats}")  # fmt: skip
        print("| sweep | combinations | chunks | local | cluster | cluster / local "
              "| overhead per chunk | equal |")  # fmt: skip
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for strategy_id, space in SWEEPS.items():
            combos = grid_combinations(get_strategy(strategy_id), space)
            for executor in (LOCAL, dask):  # warm-up: kernels loaded, bars sent
                executor.sweep(get_strategy(strategy_id), bars, combos[:64], CONFIG)
            local, expected = timed(LOCAL, strategy_id, bars, combos, args.repeats)
            remote, table = timed(dask, strategy_id, bars, combos, args.repeats)
            chunks = -(-len(combos) // chunk_size(len(combos), threads))
            equal = np.array_equal(table, expected, equal_nan=True)
            print(f"| {strategy_id} | {len(combos):,} | {chunks} | {local:.2f} s | "
                  f"{remote:.2f} s | {remote / local:.2f}x | "
                  f"{(remote - local) / chunks * 1000:.0f} ms | {equal} |")  # fmt: skip
        dask.close()


if __name__ == "__main__":
    main()
