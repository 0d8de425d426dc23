"""The optimizer's searches and walk-forward validation."""

from __future__ import annotations

import pytest

from core.market.history import simulated_bars
from core.research.backtest import BacktestConfig
from core.research.metrics import METRIC_NAMES
from core.research.optimizer import Cancelled, Objective, Range, grid_combinations, optimize
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from core.research.sweep import sweep
from core.research.walkforward import walk_forward, window_bounds

SMA = get_strategy("sma_cross")
BARS = simulated_bars("BTCUSD", 4, 3000, 3600, 60)
SPACE = {"fast": Range(5, 14), "slow": Range(20, 35, 5)}


def test_range_values_include_both_ends() -> None:
    assert Range(5, 50).values()[:2] == [5, 6] and Range(5, 50).values()[-1] == 50
    assert Range(0.1, 0.3, 0.1).values() == pytest.approx([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="step"):
        Range(1, 2, 0)


def test_grid_skips_combinations_that_break_constraints() -> None:
    combos = grid_combinations(SMA, {"fast": Range(5, 50), "slow": Range(10, 200)})
    assert len(combos) == 7925
    assert all(c["fast"] < c["slow"] for c in combos)


def test_unknown_objective_names_the_known_metrics() -> None:
    with pytest.raises(ValueError, match="known: total_return"):
        Objective("happiness")


def test_grid_search_finds_what_brute_force_finds_and_reports_progress() -> None:
    seen: list[tuple[int, int]] = []
    result = optimize(SMA, BARS, SPACE, objective=Objective("total_return"),
                      progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    combos = grid_combinations(SMA, SPACE)
    brute = max(run_backtest(SMA, BARS, c).metrics["total_return"] for c in combos)
    assert result.best is not None
    assert result.best.metrics["total_return"] == pytest.approx(brute)
    assert len(result.evaluations) == len(combos)
    assert seen[-1] == (len(combos), len(combos))


def test_minimised_metric_picks_the_smallest() -> None:
    result = optimize(SMA, BARS, SPACE, objective=Objective("max_drawdown"))
    assert result.best is not None
    smallest = min(
        e.metrics["max_drawdown"] for e in result.evaluations if e.metrics["trades"] >= 1
    )
    assert result.best.metrics["max_drawdown"] == smallest


def test_min_trades_filter_excludes_thin_results() -> None:
    result = optimize(SMA, BARS, SPACE, min_trades=10_000)
    assert result.best is None
    assert len(result.evaluations) == len(grid_combinations(SMA, SPACE))


def test_random_search_is_a_seeded_subset_of_the_grid() -> None:
    first = optimize(SMA, BARS, SPACE, method="random", trials=7, seed=3)
    again = optimize(SMA, BARS, SPACE, method="random", trials=7, seed=3)
    grid = grid_combinations(SMA, SPACE)
    assert [e.params for e in first.evaluations] == [e.params for e in again.evaluations]
    assert len(first.evaluations) == 7
    assert all(e.params in grid for e in first.evaluations)


def test_tpe_search_stays_inside_the_ranges_and_respects_constraints() -> None:
    result = optimize(SMA, BARS, {"fast": Range(2, 30), "slow": Range(10, 60)},
                      method="tpe", trials=25, seed=1)  # fmt: skip
    assert result.best is not None
    assert 0 < len(result.evaluations) <= 25  # invalid (fast >= slow) trials are pruned
    for e in result.evaluations:
        assert 2 <= e.params["fast"] < e.params["slow"] <= 60


@pytest.mark.parametrize("strategy_id", ["sma_cross", "rsi_reversion"])
def test_search_stops_between_chunks_when_cancelled(strategy_id: str) -> None:
    """Both sweep paths (precomputed crossover features, and threads) honour a stop."""
    strategy = get_strategy(strategy_id)
    space = (
        {"fast": Range(2, 60), "slow": Range(10, 120)}
        if strategy_id == "sma_cross"
        else {"window": Range(2, 60), "lower": Range(10, 40, 5), "upper": Range(60, 90, 5)}
    )
    calls: list[tuple[int, int]] = []
    with pytest.raises(Cancelled):
        optimize(strategy, BARS, space, progress=lambda d, t: calls.append((d, t)),
                 should_stop=lambda: len(calls) >= 2)  # fmt: skip
    assert len(calls) == 2
    done, total = calls[-1]
    assert 0 < calls[0][0] < done < total


def test_sweep_metrics_equal_single_backtests_on_both_paths() -> None:
    config = BacktestConfig(commission=0.001, slippage_bps=2.0, stop_loss=0.05, direction="both")
    for strategy_id, combos in [
        ("ema_cross", [{"fast": f, "slow": s} for f, s in [(3, 9), (5, 40), (12, 26)]]),
        ("keltner_breakout", [{"window": 20, "atr_window": a, "k": 1.5} for a in (5, 10, 30)]),
    ]:
        strategy = get_strategy(strategy_id)
        combos = [strategy.resolve(c) for c in combos]
        table = sweep(strategy, BARS, combos, config, start=200)
        for params, row in zip(combos, table, strict=True):
            single = run_backtest(strategy, BARS, params, config, start=200).metrics
            assert [single[name] for name in METRIC_NAMES] == pytest.approx(row, rel=1e-12)


def test_window_bounds_rolling_and_anchored() -> None:
    assert window_bounds(100, 3, "rolling") == [(0, 25, 50), (25, 50, 75), (50, 75, 100)]
    assert window_bounds(100, 3, "anchored") == [(0, 25, 50), (0, 50, 75), (0, 75, 100)]
    with pytest.raises(ValueError, match="too few"):
        window_bounds(5, 3, "rolling")


def test_walk_forward_reports_each_window_and_the_degradation() -> None:
    result = walk_forward(SMA, BARS, SPACE, mode="anchored", windows=3,
                          objective=Objective("total_return"))  # fmt: skip
    assert [w.index for w in result.windows] == [1, 2, 3]
    for window in result.windows:
        assert window.in_sample[1] < window.out_of_sample[0]
        assert window.params is not None
        # the in-sample score is the best of the in-sample search
        in_sample = {
            k: v[: int(BARS["ts"].searchsorted(window.out_of_sample[0]))] for k, v in BARS.items()
        }
        best = optimize(SMA, in_sample, SPACE, objective=Objective("total_return")).best
        assert best is not None and window.in_sample_score == pytest.approx(
            best.metrics["total_return"]
        )
    expected = result.mean_in_sample - result.mean_out_of_sample
    assert result.degradation == pytest.approx(expected)


def test_backtest_from_start_trades_only_after_it_with_warmed_indicators() -> None:
    whole = run_backtest(SMA, BARS, {"fast": 5, "slow": 20}, BacktestConfig())
    late = run_backtest(SMA, BARS, {"fast": 5, "slow": 20}, BacktestConfig(), start=1500)
    assert len(late.equity) == len(BARS["close"]) - 1500
    assert all(t.entry_time >= BARS["ts"][1500] for t in late.trades)
    # entries right after the start use signals computed from the full history
    later_entries = [t.entry_time for t in whole.trades if t.entry_time > BARS["ts"][1501]]
    assert [t.entry_time for t in late.trades if t.entry_time > BARS["ts"][1501]][
        :3
    ] == later_entries[:3]


@pytest.mark.parametrize("method", ["grid", "random"])
def test_a_search_resumed_from_its_segments_ends_exactly_as_an_uninterrupted_one(
    method: str,
) -> None:
    from core.market.history import simulated_bars
    from core.research.optimizer import Evaluation, Range, optimize
    from core.research.strategies import get_strategy

    bars = simulated_bars("R", 4, 1_500, 3600, 60)
    strategy = get_strategy("sma_cross")
    space = {"fast": Range(2, 60), "slow": Range(10, 120, 2)}
    segments: list[list[Evaluation]] = []
    kwargs = {"method": method, "trials": 2_500, "seed": 3}
    whole = optimize(strategy, bars, space, on_segment=segments.append, **kwargs)
    assert len(segments) >= 3 and sum(map(len, segments)) == len(whole.evaluations)
    seen: list[tuple[int, int]] = []
    resumed = optimize(
        strategy, bars, space, resume=[e for s in segments[:2] for e in s],
        progress=lambda done, total: seen.append((done, total)), **kwargs,
    )  # fmt: skip
    assert resumed.best == whole.best
    assert resumed.evaluations == whole.evaluations
    assert seen[0][0] > len(segments[0]) + len(segments[1]) - 1  # counts on from the resume
    assert seen[-1] == (len(whole.evaluations), len(whole.evaluations))
    with pytest.raises(ValueError, match="do not match"):
        optimize(strategy, bars, space, resume=segments[1], **kwargs)


def test_a_walk_forward_resumed_from_its_windows_ends_as_an_uninterrupted_one() -> None:
    space = {"fast": Range(5, 20, 5), "slow": Range(30, 90, 20)}
    strategy = get_strategy("sma_cross")
    made: list = []
    whole = walk_forward(strategy, BARS, space, windows=4, on_window=made.append)
    assert made == whole.windows
    resumed = walk_forward(strategy, BARS, space, windows=4, resume=made[:2])
    assert resumed.windows == whole.windows
    with pytest.raises(ValueError, match="do not match"):
        walk_forward(strategy, BARS, space, windows=4, resume=made[1:2])
