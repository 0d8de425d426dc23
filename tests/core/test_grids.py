"""Default search grids and heatmaps of a search's evaluations."""

from __future__ import annotations

from core.jobs.optimize import evaluations_from_checkpoints
from core.research.grids import default_grid, heatmap, varied_params
from core.research.optimizer import Evaluation, Objective, Range, grid_combinations
from core.research.strategies import REGISTRY, get_strategy


def test_default_grid_spans_each_range_within_budget() -> None:
    assert default_grid(get_strategy("sma_cross")) == {
        "fast": (2.0, 200.0, 40.0), "slow": (3.0, 400.0, 80.0),
    }  # fmt: skip
    for strategy in REGISTRY.values():
        grid = default_grid(strategy)
        assert list(grid) == [p.name for p in strategy.params]
        combos = 1
        for param in strategy.params:
            start, stop, step = grid[param.name]
            values = Range(start, stop, step).values()
            assert values[0] == param.min and values[-1] <= param.max
            assert step >= param.step
            combos *= len(values)
        assert combos <= 1_000, strategy.id
        assert grid_combinations(strategy, {k: Range(*v) for k, v in grid.items()}), strategy.id


def ev(fast: int, slow: int, signal: int, sharpe: float, trades: int = 5) -> Evaluation:
    return Evaluation({"fast": fast, "slow": slow, "signal": signal},
                      {"sharpe": sharpe, "max_drawdown": -sharpe, "trades": trades})  # fmt: skip


def test_heatmap_keeps_the_best_over_other_params_and_skips_thin_ones() -> None:
    evaluations = [
        ev(5, 20, 9, 0.5),
        ev(5, 20, 12, 1.5),  # signal varies: 1.5 wins the cell
        ev(10, 20, 9, -0.2),
        ev(10, 20, 12, 3.0, trades=0),  # too few trades to count
        ev(5, 30, 9, 0.1),
    ]
    assert varied_params(evaluations) == ["fast", "slow", "signal"]
    table = heatmap(evaluations, "fast", "slow", Objective("sharpe"), min_trades=1)
    assert (table.xs, table.ys) == ((5.0, 10.0), (20.0, 30.0))
    assert table.values == ((1.5, -0.2), (0.1, None))
    assert table.best(Objective("sharpe")) == (0, 0)
    smallest = heatmap(evaluations, "fast", "slow", Objective("max_drawdown"))
    assert smallest.values == ((-1.5, -3.0), (-0.1, None))  # minimised: lowest wins
    assert smallest.best(Objective("max_drawdown")) == (0, 1)


def test_a_grid_larger_than_the_screen_is_binned_to_the_best_of_each_range() -> None:
    evaluations = [
        ev(fast, slow, 9, fast * 1000 + slow) for fast in range(2, 202) for slow in range(3, 403)
    ]  # 200 x 400, the 80,000-result sweep's shape
    full = heatmap(evaluations, "fast", "slow", Objective("sharpe"))
    assert (len(full.xs), len(full.ys)) == (200, 400)
    table = heatmap(evaluations, "fast", "slow", Objective("sharpe"), max_columns=12,
                    max_rows=60)  # fmt: skip
    assert (len(table.xs), len(table.ys)) == (12, 60)
    assert table.xs[0] == 2.0 and table.ys[0] == 3.0  # each labelled by its range's first
    best_cell = table.values[-1][-1]
    assert best_cell == full.values[-1][-1] == 201 * 1000 + 402  # the best of its range
    assert table.best(Objective("sharpe")) == (59, 11)
    assert all(v is not None for line in table.values for v in line)


def test_checkpoints_read_back_as_evaluations() -> None:
    payloads = [{"params": [{"fast": 5}], "metrics": [{"sharpe": 1.0}]},
                {"params": [{"fast": 6}], "metrics": [{"sharpe": 2.0}]}]  # fmt: skip
    assert evaluations_from_checkpoints(payloads) == [
        Evaluation({"fast": 5}, {"sharpe": 1.0}), Evaluation({"fast": 6}, {"sharpe": 2.0}),
    ]  # fmt: skip
