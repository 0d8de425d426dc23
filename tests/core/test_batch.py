"""Batch research: strategies x datasets in one run, and as a job."""

from __future__ import annotations

import json

import pytest

from console.widgets.job_details import strategy_code
from core.bus import Bus
from core.events import JobState, JobUpdate
from core.jobs import JOB_KINDS, BatchRequest, JobManager
from core.jobs.batch import run_batch_job
from core.jobs.context import JobContext
from core.market.history import simulated_bars
from core.research.batch import run_batch, sample_params
from core.research.optimizer import Objective
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from core.research.sweep import Cancelled
from core.store import JobRow
from tests.core.test_jobs import wait_for_state

DATASETS = {
    "spy": simulated_bars("SPY", 1, 1500, 86_400, 600),
    "btc": simulated_bars("BTCUSD", 2, 1500, 3600, 60),
}
STRATEGIES = [get_strategy(s) for s in ("sma_cross", "rsi_reversion", "donchian_breakout")]


def test_sampled_parameters_are_distinct_valid_and_start_with_the_defaults() -> None:
    strategy = get_strategy("ema_ribbon")
    combos = sample_params(strategy, 40, seed=3)
    assert combos[0] == strategy.defaults()
    assert len(combos) == 40
    assert len({tuple(c.values()) for c in combos}) == 40
    for combo in combos:
        assert strategy.resolve(combo) == combo
    assert combos == sample_params(strategy, 40, seed=3)  # reproducible


def test_batch_with_defaults_equals_one_backtest_per_pair() -> None:
    rows = run_batch(STRATEGIES, DATASETS)
    assert [(r.strategy, r.dataset) for r in rows] == [
        (s.id, d) for s in STRATEGIES for d in DATASETS
    ]
    for row in rows:
        single = run_backtest(get_strategy(row.strategy), DATASETS[row.dataset])
        assert row.params == get_strategy(row.strategy).defaults()
        assert row.metrics == pytest.approx(single.metrics, rel=1e-12)
        assert row.evaluations == 1


def test_batch_with_trials_keeps_the_best_by_the_objective() -> None:
    objective = Objective("total_return")
    rows = run_batch(STRATEGIES[:1], DATASETS, trials=30, objective=objective, seed=5)
    for row in rows:
        assert row.evaluations == 30
        candidates = sample_params(STRATEGIES[0], 30, seed=5)
        returns = [
            run_backtest(STRATEGIES[0], DATASETS[row.dataset], c).metrics["total_return"]
            for c in candidates
        ]
        assert row.metrics["total_return"] == pytest.approx(max(returns), rel=1e-12)


def test_batch_reports_progress_per_pair_and_stops_when_asked() -> None:
    seen: list[tuple[int, int]] = []
    with pytest.raises(Cancelled):
        run_batch(STRATEGIES, DATASETS, progress=lambda d, t: seen.append((d, t)),
                  should_stop=lambda: len(seen) >= 2)  # fmt: skip
    assert seen == [(1, 6), (2, 6)]


async def test_batch_job_runs_every_pair_and_summarises_the_best() -> None:
    bus = Bus()
    updates = bus.subscribe(JobUpdate)
    manager = JobManager(bus, None, JOB_KINDS)
    request = BatchRequest(("sma_cross", "macd_signal"), ("sim:SPY", "sim:ETHUSD"), trials=5)
    job_id = await manager.submit("batch", request.as_params())
    done = await wait_for_state(updates, job_id, JobState.DONE)
    assert done.done == done.total == 4
    assert done.summary.startswith("best ") and "sharpe=" in done.summary


def test_a_batch_resumed_from_its_rows_ends_as_an_uninterrupted_one() -> None:
    made: list = []
    whole = run_batch(STRATEGIES, DATASETS, trials=3, on_row=made.append)
    assert made == whole
    resumed = run_batch(STRATEGIES, DATASETS, trials=3, resume=made[:4])
    assert resumed == whole
    with pytest.raises(ValueError, match="do not match"):
        run_batch(STRATEGIES, DATASETS, trials=3, resume=made[1:3])


def test_a_batch_records_each_strategys_version_and_the_jobs_screen_shows_it() -> None:
    request = BatchRequest(("sma_cross", "macd_signal"), ("sim:SPY",))
    result = run_batch_job(request, JobContext(lambda done, total: None))
    versions = {s: get_strategy(s).version for s in request.strategies}
    assert result["strategy_versions"] == versions
    row = JobRow(kind="batch", title=request.title, state=JobState.DONE.value, created_at=0.0,
                 params_json=json.dumps(request.as_params()),
                 result_json=json.dumps(result))  # fmt: skip
    shown = strategy_code(row)
    assert shown is not None
    assert all(f"{s} · version {v}" in shown for s, v in versions.items())
