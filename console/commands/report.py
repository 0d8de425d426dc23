"""`quarterdeck export report`: a PDF report of a backtest, or with ``--grid`` of an
optimization (heatmap, walk-forward, overfitting) and its best backtest."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.commands.errors import UsageError
from console.commands.optimize import (
    add_search_arguments,
    check_search,
    overfitting_report,
    parse_grid,
)
from console.commands.options import number
from console.commands.research import add_config_arguments, config_from, parse_params
from core import bounds

if TYPE_CHECKING:
    from core.exports.report import OptimizationReport
    from core.market.history import Bars
    from core.research.backtest import BacktestConfig
    from core.research.strategies import Params, Strategy


def add_parser(export_subcommands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = export_subcommands.add_parser(
        "report",
        help="a PDF report of a backtest, or of an optimization with --grid",
        description="Write a PDF report: title page, metrics, equity and drawdown charts, "
        "monthly returns, trades and a risk disclosure; with --grid also the parameter "
        "heatmap, walk-forward validation and overfitting statistics of the search.",
    )
    parser.add_argument("strategy", metavar="STRATEGY")
    parser.add_argument("--data", required=True, metavar="FILE", help="CSV or Parquet OHLCV")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="repeatable; with --grid, holds a parameter the grid leaves out",
    )
    parser.add_argument("-o", "--output", required=True, metavar="FILE.pdf", help="the PDF")
    parser.add_argument(
        "--max-trades",
        type=number(bounds.COUNT),
        default=None,
        metavar="N",
        help="list at most N trades (default 5000)",
    )
    search = parser.add_argument_group(
        "optimization report", "with --grid the report covers a search, as `quarterdeck optimize`"
    )
    add_search_arguments(search, grid_required=False)
    search.add_argument(
        "--walk-forward", choices=["rolling", "anchored", "none"], default="rolling"
    )
    search.add_argument("--windows", type=number(bounds.WINDOWS), default=4, metavar="K")
    add_config_arguments(parser)
    parser.set_defaults(handler=report_command)


def output_path(raw: str) -> Path:
    """Where the PDF goes, refused before any work if it cannot be written there."""
    path = Path(raw)
    if path.is_dir():
        raise UsageError(f"-o {raw}: is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"-o {raw}: no such directory {path.parent}")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"-o {raw}: not writable")
    return path


def report_command(args: argparse.Namespace) -> int:
    from core.market.loader import DataFileError, load_bars
    from core.research.runner import run_backtest
    from core.research.strategies import ParameterError, get_strategy

    output = output_path(args.output)
    try:
        strategy = get_strategy(args.strategy)
        fixed = parse_params(args.param)
        params = strategy.resolve(fixed)
        config = config_from(args)
        space = search_space(args, strategy, fixed, params) if args.grid else None
        bars = load_bars(args.data)
    except (KeyError, ParameterError, ValueError, DataFileError) as exc:
        raise UsageError(str(exc)) from None
    optimization = None
    if space is not None:
        optimization = search(args, strategy, bars, space, config)
        assert optimization.result.best is not None
        params = optimization.result.best.params
    result = run_backtest(strategy, bars, params, config)
    options: dict[str, Any] = {"data_name": Path(args.data).name, "optimization": optimization}
    if args.max_trades is not None:
        options["max_trades"] = args.max_trades
    from core.exports.report import build_report

    try:
        build_report(output, strategy, bars, result, **options)
    except OSError as exc:
        raise UsageError(f"-o {args.output}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {output}")
    return 0


def search_space(
    args: argparse.Namespace, strategy: Strategy, fixed: dict[str, str], params: Params
) -> dict[str, Any]:
    """The ``--grid`` ranges, plus a one-value range for each ``--param`` the grid leaves out."""
    from core.research.optimizer import Objective, Range

    Objective(args.objective)  # ValueError names the metric
    space = parse_grid(args.grid)
    check_search(args, strategy, space)
    both = sorted(set(space) & set(fixed))
    if both:
        raise UsageError(f"--param {both[0]} and --grid {both[0]}: give one or the other")
    for name in fixed:
        space[name] = Range(float(params[name]), float(params[name]))
    return space


def search(
    args: argparse.Namespace,
    strategy: Strategy,
    bars: Bars,
    space: dict[str, Any],
    config: BacktestConfig,
) -> OptimizationReport:
    from core.exports.report import OptimizationReport
    from core.research.optimizer import Objective, optimize
    from core.research.strategies import ParameterError
    from core.research.walkforward import walk_forward

    options = dict(
        method=args.method,
        trials=args.trials,
        objective=Objective(args.objective),
        config=config,
        min_trades=args.min_trades,
        seed=args.seed,
    )
    try:
        result = optimize(strategy, bars, space, **options)
    except (ParameterError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if result.best is None:
        raise UsageError(
            f"no parameter set in the grid made at least {args.min_trades} closed trade(s) "
            "(--min-trades): nothing to report"
        )
    wf = None
    if args.walk_forward != "none":
        try:
            wf = walk_forward(
                strategy, bars, space, mode=args.walk_forward, windows=args.windows, **options
            )
        except ValueError as exc:
            raise UsageError(f"--windows {args.windows}: {exc}") from None
    stats, note = None, None
    try:
        stats = overfitting_report(strategy, bars, result, config, args.seed)
    except ValueError as exc:
        note = str(exc)
    return OptimizationReport(result, space, args.min_trades, wf, stats, note)
