"""`quarterdeck optimize`: search a strategy's parameters on a data file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from console.commands.errors import UsageError
from console.commands.executor import add_executor_argument, sweep_executor
from console.commands.options import number
from console.commands.research import add_config_arguments, config_from, iso
from console.formatting import ratio
from core import bounds, jsontext

if TYPE_CHECKING:
    from core.research.optimizer import Evaluation, Space
    from core.research.strategies import Strategy

#: Above this many returns (trials x bars), PBO uses a seeded sample of trials.
PBO_BUDGET = 20_000_000


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("optimize", help="optimise a strategy's parameters")
    parser.add_argument("strategy", metavar="STRATEGY")
    parser.add_argument("--data", required=True, metavar="FILE", help="CSV or Parquet OHLCV")
    add_search_arguments(parser, grid_required=True)
    parser.add_argument("--walk-forward", choices=["rolling", "anchored"], default=None)
    parser.add_argument("--windows", type=number(bounds.WINDOWS), default=4, metavar="K")
    parser.add_argument("--overfitting", action="store_true",
                        help="report PBO (CSCV) and the deflated Sharpe ratio")  # fmt: skip
    add_config_arguments(parser)
    add_executor_argument(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=optimize_command)


def add_search_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, grid_required: bool
) -> None:
    """The search flags, shared by ``optimize`` and ``export report``."""
    parser.add_argument("--grid", action="append", required=grid_required, default=None,
                        metavar="NAME=START:STOP[:STEP]")  # fmt: skip
    parser.add_argument("--method", choices=["grid", "random", "tpe"], default="grid")
    parser.add_argument("--trials", type=number(bounds.POSITIVE_COUNT), default=None, metavar="N")
    parser.add_argument("--objective", default="sharpe", metavar="METRIC")
    parser.add_argument("--min-trades", type=number(bounds.COUNT), default=1, metavar="N")
    parser.add_argument("--seed", type=number(bounds.SEED), default=0)


def parse_grid(specs: list[str]) -> dict[str, Any]:
    from core.research.optimizer import Range

    space = {}
    for spec in specs:
        name, sep, bounds = spec.partition("=")
        parts = bounds.split(":")
        if not sep or not name.strip() or len(parts) not in (2, 3):
            raise UsageError(f"--grid {spec!r}: expected NAME=START:STOP[:STEP]")
        try:
            numbers = [float(p) for p in parts]
            space[name.strip()] = Range(*numbers)
        except ValueError as exc:
            raise UsageError(f"--grid {spec!r}: {exc}") from None
    return space


def check_search(args: argparse.Namespace, strategy: Strategy, space: Space) -> None:
    """The grid within each parameter's range, and the search (with a walk-forward's
    windows) within ``QD_SWEEP_MAX_COMBOS``, before any data is read."""
    from core.research.space import checked_search

    runs = 1 + (args.windows if args.walk_forward not in (None, "none") else 0)
    limit = args.settings.sweep_max_combos
    try:
        checked_search(strategy, space, args.method, args.trials, limit, runs)
    except ValueError as exc:
        raise UsageError(f"--grid: {exc}") from None


def optimize_command(args: argparse.Namespace) -> int:
    from core.market.loader import DataFileError, load_bars
    from core.research.optimizer import Objective, optimize
    from core.research.strategies import ParameterError, get_strategy
    from core.research.walkforward import walk_forward

    try:
        strategy = get_strategy(args.strategy)
        space = parse_grid(args.grid)
        check_search(args, strategy, space)
        objective = Objective(args.objective)
        config = config_from(args)
        bars = load_bars(args.data)
    except (KeyError, ParameterError, ValueError, DataFileError) as exc:
        raise UsageError(str(exc)) from None
    with sweep_executor(args) as executor:
        search = dict(method=args.method, trials=args.trials, objective=objective, config=config,
                      min_trades=args.min_trades, seed=args.seed, executor=executor)  # fmt: skip
        try:
            result = optimize(strategy, bars, space, **search)
        except ParameterError as exc:
            raise UsageError(str(exc)) from None
        document: dict[str, Any] = {
            "strategy": strategy.id,
            "strategy_version": strategy.version,
            "best": None if result.best is None else evaluation_json(result.best),
            "results": [evaluation_json(e) for e in result.evaluations],
            "evaluations": len(result.evaluations),
            "seconds": result.seconds,
        }  # fmt: skip
        if args.walk_forward:
            try:
                wf = walk_forward(strategy, bars, space, mode=args.walk_forward,
                                  windows=args.windows, **search)  # fmt: skip
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            document["walk_forward"] = {
                "mode": wf.mode,
                "objective": objective.metric,
                "windows": [
                    {
                        "index": w.index,
                        "in_sample": [iso(w.in_sample[0]), iso(w.in_sample[1])],
                        "out_of_sample": [iso(w.out_of_sample[0]), iso(w.out_of_sample[1])],
                        "params": w.params,
                        "in_sample_score": w.in_sample_score,
                        "out_of_sample_score": w.out_of_sample_score,
                    }
                    for w in wf.windows
                ],
                "mean_in_sample": wf.mean_in_sample,
                "mean_out_of_sample": wf.mean_out_of_sample,
                "degradation": wf.degradation,
            }
    if args.overfitting and result.best is not None:
        document["overfitting"] = overfitting_report(strategy, bars, result, config, args.seed)
    if args.json:
        print(jsontext.dumps(document, indent=2))
    else:
        print_summary(strategy.id, document, objective.metric)
    return 0


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    """One evaluated parameter set; ``bankrupt``: its account was wiped out (ranked last)."""
    from core.outcomes import is_bankrupt

    return {
        "params": evaluation.params,
        "metrics": evaluation.metrics,
        "bankrupt": is_bankrupt(evaluation.metrics),
    }


def overfitting_report(strategy, bars, result, config, seed: int) -> dict[str, Any]:
    import numpy as np

    from core.research.backtest import run_kernel
    from core.research.overfitting import deflated_sharpe, probability_of_backtest_overfitting

    evaluations = result.evaluations
    periods = len(bars["close"])
    if len(evaluations) * periods > PBO_BUDGET:
        keep = max(2, PBO_BUDGET // periods)
        chosen = np.random.default_rng(seed).choice(len(evaluations), keep, replace=False)
        evaluations = [evaluations[i] for i in sorted(chosen)]
    if result.best not in evaluations:
        evaluations = [result.best, *evaluations[1:]]
    columns = []
    for evaluation in evaluations:
        signals = strategy.signals(bars, evaluation.params, config.direction)
        equity, *_ = run_kernel(bars, signals, config)
        previous = np.concatenate(([config.cash], equity[:-1]))
        alive = previous > 0.0  # after a bankruptcy the account holds 0: no more returns
        columns.append(np.where(alive, equity / np.where(alive, previous, 1.0) - 1.0, 0.0))
    returns = np.column_stack(columns)
    stds = returns.std(axis=0, ddof=1)
    sharpes = np.where(stds > 0, returns.mean(axis=0) / np.where(stds > 0, stds, 1), 0.0)
    best_returns = returns[:, evaluations.index(result.best)]
    partitions = 16 if periods >= 32 * 16 else 8
    return {
        "pbo": probability_of_backtest_overfitting(returns, partitions),
        "pbo_partitions": partitions,
        "pbo_trials": returns.shape[1],
        "deflated_sharpe": deflated_sharpe(
            best_returns, len(result.evaluations), float(sharpes.var(ddof=1))
        ),
    }


def print_summary(strategy_id: str, document: dict[str, Any], metric: str) -> None:
    best = document["best"]
    print(f"{strategy_id}: {document['evaluations']} evaluations in {document['seconds']:.2f}s")
    if best is None:
        print("  no combination met the minimum trade count")
    else:
        shown = " ".join(f"{k}={v}" for k, v in best["params"].items())
        print(f"  best {shown}: {metric}={ratio(best['metrics'][metric], 4)}")
    wf = document.get("walk_forward")
    if wf:
        for w in wf["windows"]:
            scores = f"in {w['in_sample_score']} out {w['out_of_sample_score']}"
            print(f"  window {w['index']}: {w['params']} {scores}")
        print(f"  degradation ({metric}): {wf['degradation']}")
    if "overfitting" in document:
        o = document["overfitting"]
        print(f"  PBO {o['pbo']:.3f} · deflated Sharpe {o['deflated_sharpe']:.3f}")
