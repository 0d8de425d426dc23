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


def naive_heatmap(evaluations, x, y, objective, min_trades, columns, rows):  # type: ignore[no-untyped-def]
    """The heatmap by its definition, one evaluation at a time: each cell the best over
    its range of x and y, bins as even as they divide."""

    def bins(values: list[float], most: int) -> dict[float, float]:
        if len(values) <= most:
            return {v: v for v in values}
        firsts: dict[int, float] = {}
        return {v: firsts.setdefault(i * most // len(values), v) for i, v in enumerate(values)}

    x_of = bins(sorted({float(e.params[x]) for e in evaluations}), columns)
    y_of = bins(sorted({float(e.params[y]) for e in evaluations}), rows)
    best: dict[tuple[float, float], float] = {}
    for e in evaluations:
        value = e.metrics[objective.metric]
        if value != value or e.metrics["trades"] < min_trades:
            continue
        key = (x_of[float(e.params[x])], y_of[float(e.params[y])])
        held = best.get(key)
        if held is None or objective.score({objective.metric: value}) > objective.score(
            {objective.metric: held}
        ):
            best[key] = value
    xs, ys = sorted(set(x_of.values())), sorted(set(y_of.values()))
    return tuple(xs), tuple(ys), tuple(tuple(best.get((a, b)) for a in xs) for b in ys)


def test_the_heatmap_equals_its_definition_on_random_searches() -> None:
    import random

    rng = random.Random(11)
    for trial in range(30):
        evaluations = [
            Evaluation(
                {"fast": rng.randint(2, 60), "slow": rng.randint(3, 90), "k": rng.random()},
                {
                    "sharpe": rng.choice([rng.gauss(0, 1), float("nan"), float("inf")]),
                    "max_drawdown": rng.random(),
                    "trades": float(rng.randint(0, 9)),
                },
            )
            for _ in range(rng.randint(1, 400))
        ]
        metric = "sharpe" if trial % 2 else "max_drawdown"
        columns, rows = rng.randint(1, 40), rng.randint(1, 40)
        drawn = heatmap(evaluations, "fast", "slow", Objective(metric), 3,
                        max_columns=columns, max_rows=rows)  # fmt: skip
        assert (drawn.xs, drawn.ys, drawn.values) == naive_heatmap(
            evaluations, "fast", "slow", Objective(metric), 3, columns, rows
        )
