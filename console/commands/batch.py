"""`quarterdeck batch`: many strategies over many data files in one run."""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from typing import Any

from console.commands.errors import UsageError
from console.commands.executor import add_executor_argument, sweep_executor
from console.commands.options import number
from console.commands.research import add_config_arguments, config_from
from console.formatting import ratio
from core import bounds, jsontext


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser(
        "batch", help="run strategies x data files; each pair backtested or briefly searched"
    )
    parser.add_argument("strategies", nargs="+", metavar="STRATEGY",
                        help="strategy ids, or 'all'")  # fmt: skip
    parser.add_argument("--data", action="append", required=True, metavar="FILE",
                        help="CSV or Parquet OHLCV; repeat for more datasets")  # fmt: skip
    parser.add_argument("--trials", type=number(bounds.POSITIVE_COUNT), default=1, metavar="N",
                        help="parameter sets per pair, defaults first (default 1)")  # fmt: skip
    parser.add_argument("--objective", default="sharpe", metavar="METRIC")
    parser.add_argument("--min-trades", type=number(bounds.COUNT), default=1, metavar="N")
    parser.add_argument("--seed", type=number(bounds.SEED), default=0)
    add_config_arguments(parser)
    add_executor_argument(parser)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=batch_command)


def batch_command(args: argparse.Namespace) -> int:
    from core.market.loader import DataFileError, load_bars
    from core.research.batch import run_batch
    from core.research.optimizer import Objective
    from core.research.strategies import ParameterError, all_strategies, get_strategy

    try:
        everything = [s.id for s in all_strategies()]  # built-ins and user strategies
        ids = everything if args.strategies == ["all"] else args.strategies
        strategies = [get_strategy(s) for s in ids]
        objective = Objective(args.objective)
        config = config_from(args)
        datasets = {path: load_bars(path) for path in dict.fromkeys(args.data)}
    except (KeyError, ParameterError, ValueError, DataFileError) as exc:
        raise UsageError(str(exc)) from None
    started = time.perf_counter()
    with sweep_executor(args) as executor:
        rows = run_batch(strategies, datasets, config, trials=args.trials, objective=objective,
                         min_trades=args.min_trades, seed=args.seed, executor=executor)  # fmt: skip
    document: dict[str, Any] = {
        "rows": [asdict(r) for r in rows],
        "seconds": time.perf_counter() - started,
    }
    if args.json:
        print(jsontext.dumps(document, indent=2))
        return 0
    metric = objective.metric
    ranked = sorted(rows, key=lambda r: objective.score(r.metrics), reverse=True)
    width = max(len(r.strategy) for r in rows)
    print(f"{len(rows)} runs in {document['seconds']:.2f}s, ranked by {metric}")
    for r in ranked:
        shown = " ".join(f"{k}={v}" for k, v in r.params.items())
        print(f"  {r.strategy:<{width}}  {ratio(r.metrics[metric], 4):>9}  "
              f"{int(r.metrics['trades']):>5} trades  {r.dataset}  {shown}")  # fmt: skip
    return 0
