"""`quarterdeck export`: a strategy as Pine Script, or a PDF report of its results.

Each format is a subcommand with its own module-level ``add_parser(subcommands)``;
``EXPORTERS`` lists them, so a new format is one more entry there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from console.commands import report
from console.commands.errors import UsageError
from console.commands.options import number
from console.commands.research import add_config_arguments, config_from, parse_params
from core import bounds

Subcommands = argparse._SubParsersAction  # type: ignore[type-arg]


def add_pine_parser(subcommands: Subcommands) -> None:
    pine = subcommands.add_parser(
        "pine",
        help="a strategy as a TradingView Pine Script v6 strategy",
        description="Print (or write with -o) a Pine Script v6 strategy whose inputs, "
        "settings and orders reproduce `quarterdeck backtest` with the same flags.",
    )
    pine.add_argument("strategy", metavar="STRATEGY")
    pine.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE", help="repeatable"
    )
    pine.add_argument("--best-of", type=number(bounds.ROW_ID), default=None, metavar="JOB",
                      help="the best parameters of finished optimize job JOB (of STRATEGY), "
                           "from the store, instead of --param")  # fmt: skip
    add_config_arguments(pine)
    pine.add_argument("-o", "--output", default=None, metavar="FILE",
                      help="write the script here instead of printing it")  # fmt: skip
    pine.set_defaults(handler=pine_command)


#: One ``add_parser(subcommands)`` per export format.
EXPORTERS: list[Callable[[Subcommands], None]] = [add_pine_parser, report.add_parser]


def add_parser(commands: Subcommands) -> None:
    export = commands.add_parser("export", help="a strategy as Pine Script, or a PDF report")
    formats = export.add_subparsers(dest="format", metavar="FORMAT", required=True)
    for add in EXPORTERS:
        add(formats)


def pine_command(args: argparse.Namespace) -> int:
    from core.exports.pine import export_pine, unmatched
    from core.research.strategies import ParameterError, get_strategy

    try:
        strategy = get_strategy(args.strategy)
        given = parse_params(args.param) if args.best_of is None else best_params(args)
        params = strategy.resolve(given)
        config = config_from(args)
        script = export_pine(strategy, params, config)
    except (KeyError, ParameterError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    for note in unmatched(config):
        print(f"quarterdeck export pine: warning: {note}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(script)
        return 0
    try:
        Path(args.output).write_text(script, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"-o {args.output}: {exc.strerror or exc}") from None
    return 0


def best_params(args: argparse.Namespace) -> dict[str, float]:
    """``--best-of JOB``: that optimization's best parameters, read from the store; a
    ``ValueError`` says why it has none for STRATEGY."""
    from core.jobs.optimize import best_of
    from core.store import Store

    if args.param:
        raise UsageError("--best-of and --param: give one or the other")
    store = Store(args.settings.resolved_database_url)
    try:
        store.create_schema()
        search, best = best_of(store, args.best_of)
    finally:
        store.dispose()
    if search.strategy != args.strategy:
        raise ValueError(f"--best-of {args.best_of}: job {args.best_of} optimized "
                         f"{search.strategy}, not {args.strategy}")  # fmt: skip
    return best
