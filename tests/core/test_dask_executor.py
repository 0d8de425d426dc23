"""Sweeps, searches and batches on a real Dask cluster give, to the bit, what they
give in this process; progress streams back; a stop reaches the scheduler."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from distributed import Client

from core.executor_spec import ExecutorUnavailable
from core.jobs.datasets import dataset_bars
from core.research.backtest import BacktestConfig
from core.research.batch import run_batch
from core.research.dask_executor import MAX_CHUNK, MIN_CHUNK, DaskExecutor, chunk_size
from core.research.executors import LOCAL, executor_for
from core.research.optimizer import Range, grid_combinations, optimize
from core.research.strategies import get_strategy
from core.research.sweep import Cancelled
from core.research.walkforward import walk_forward

BARS = dataset_bars("sim:SPY", 11, 3_000)
CONFIG = BacktestConfig(commission=0.0005)


@pytest.fixture
def cluster(dask_scheduler: str) -> Iterator[DaskExecutor]:
    executor = executor_for(dask_scheduler)
    assert isinstance(executor, DaskExecutor)
    yield executor
    executor.close()


def quarterdeck_tasks(executor: DaskExecutor) -> list[str]:
    def ours(dask_scheduler) -> list[str]:  # type: ignore[no-untyped-def]
        return [str(key) for key in dask_scheduler.tasks if "quarterdeck-" in str(key)]

    return executor.client().run_on_scheduler(ours)


@pytest.mark.parametrize(
    ("strategy_id", "space"),
    [
        # a cross rule: one parallel kernel over precomputed features
        ("sma_cross", {"fast": Range(5, 40), "slow": Range(20, 160, 5)}),
        # any other rule: signal kernel and backtest per parameter set
        ("rsi_reversion", {"window": Range(5, 30), "lower": Range(15, 40, 5)}),
    ],
)
def test_a_search_on_the_cluster_is_the_local_search_to_the_bit(
    cluster: DaskExecutor, strategy_id: str, space: dict[str, Range]
) -> None:
    strategy = get_strategy(strategy_id)
    local = optimize(strategy, BARS, space, config=CONFIG)
    seen: list[int] = []
    remote = optimize(strategy, BARS, space, config=CONFIG, executor=cluster,
                      progress=lambda done, _total: seen.append(done))  # fmt: skip
    assert remote.best is not None and remote.best == local.best
    assert [e.params for e in remote.evaluations] == [e.params for e in local.evaluations]
    table = np.array([list(e.metrics.values()) for e in remote.evaluations])
    expected = np.array([list(e.metrics.values()) for e in local.evaluations])
    assert np.array_equal(table, expected, equal_nan=True)
    # streamed chunk by chunk, not all at the end
    assert len(seen) > 2 and seen == sorted(seen) and seen[-1] == len(local.evaluations)


def test_random_search_and_walk_forward_match_too(cluster: DaskExecutor) -> None:
    strategy = get_strategy("ema_cross")
    space = {"fast": Range(3, 30), "slow": Range(20, 120, 2)}
    options = dict(method="random", trials=300, seed=4, config=CONFIG)
    assert (optimize(strategy, BARS, space, executor=cluster, **options).best
            == optimize(strategy, BARS, space, **options).best)  # fmt: skip
    remote = walk_forward(strategy, BARS, space, windows=3, executor=cluster, config=CONFIG)
    local = walk_forward(strategy, BARS, space, windows=3, config=CONFIG)
    assert remote.windows == local.windows


def test_a_batch_on_the_cluster_matches_and_keeps_its_order(cluster: DaskExecutor) -> None:
    strategies = [get_strategy(s) for s in ("sma_cross", "rsi_reversion", "bollinger_reversion")]
    datasets = {"a": BARS, "b": dataset_bars("sim:BTCUSD", 3, 2_000)}
    seen: list[tuple[str, str]] = []
    remote = run_batch(strategies, datasets, CONFIG, trials=20, seed=2, executor=cluster,
                       on_row=lambda row: seen.append((row.strategy, row.dataset)))  # fmt: skip
    local = run_batch(strategies, datasets, CONFIG, trials=20, seed=2)
    assert remote == local
    assert seen == [(s.id, d) for s in strategies for d in datasets]


def test_chunks_are_sized_for_the_workers() -> None:
    assert chunk_size(20_000, threads=2) == 20_000 // 8  # four per worker thread
    assert chunk_size(100, threads=2) == MIN_CHUNK  # small sweeps: not a chunk per row
    assert chunk_size(10_000_000, threads=2) == MAX_CHUNK  # progress keeps moving
    assert chunk_size(20_000, threads=32) < chunk_size(20_000, threads=2)


def test_a_stop_cancels_the_work_left_on_the_cluster(cluster: DaskExecutor) -> None:
    strategy = get_strategy("rsi_reversion")
    combos = grid_combinations(strategy, {"window": Range(2, 60), "lower": Range(5, 45),
                                          "upper": Range(55, 95, 5)})  # fmt: skip
    stop = threading.Event()
    with pytest.raises(Cancelled):
        cluster.sweep(strategy, BARS, combos, CONFIG, progress=lambda *_: stop.set(),
                      should_stop=stop.is_set)  # fmt: skip
    deadline = time.monotonic() + 30
    while quarterdeck_tasks(cluster) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert quarterdeck_tasks(cluster) == []  # nothing left queued or running for us
    # and the cluster is free for the next search
    assert cluster.sweep(strategy, BARS, combos[:10], CONFIG).shape[0] == 10


def test_an_unreachable_scheduler_is_named() -> None:
    executor = DaskExecutor("dask://127.0.0.1:1", connect_timeout=0.5)
    with pytest.raises(ExecutorUnavailable, match=r"Dask scheduler at dask://127\.0\.0\.1:1"):
        executor.sweep(get_strategy("sma_cross"), BARS, [{"fast": 5, "slow": 20}], CONFIG)


def test_local_is_the_default_and_bad_specs_are_refused() -> None:
    assert executor_for("local") is LOCAL
    for bad in ("dask://", "dask://host", "http://host:8786", "dask://host:99999"):
        with pytest.raises(ValueError, match="not an executor"):
            executor_for(bad)


def test_the_client_connects_once_and_reports_the_workers(cluster: DaskExecutor) -> None:
    client = cluster.client()
    assert isinstance(client, Client) and cluster.client() is client
    assert sum(client.nthreads().values()) == 2
