"""`quarterdeck strategies list | new | check`: the user strategy workflow.

Bare `quarterdeck strategies [--json]` (the listing, in ``research``) keeps its
output; `list --json` adds the load errors beside the strategies.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from console.commands.errors import UsageError
from core import jsontext

if TYPE_CHECKING:
    from core.research.strategies import LoadError, Strategy
    from core.research.strategies.checking import Report

EXIT_UNSOUND = 1


def add_subcommands(listing: argparse.ArgumentParser) -> None:
    actions = listing.add_subparsers(dest="strategies_action", metavar="ACTION")
    shown = actions.add_parser("list", help="built-in and user strategies, and load errors")
    shown.add_argument("--json", action="store_true",
                       help='{"strategies": [...], "errors": [...]}')  # fmt: skip
    shown.set_defaults(handler=list_command)
    new = actions.add_parser("new", help="write a strategy template and its test")
    new.add_argument("id", metavar="ID")
    new.set_defaults(handler=new_command)
    check = actions.add_parser("check", help="check a strategy file or id: exit 0 sound, 1 not")
    check.add_argument("target", metavar="FILE_OR_ID")
    check.add_argument("--data", metavar="FILE", default=None,
                       help="check on this CSV or Parquet file (default: a 5,000-bar "
                            "random walk)")  # fmt: skip
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(handler=check_command)


def print_errors(errors: list[LoadError]) -> None:
    for error in errors:
        print(f"quarterdeck strategies: {error}", file=sys.stderr)


def list_command(args: argparse.Namespace) -> int:
    from console.commands.research import describe, print_listing
    from core.research.strategies import all_strategies, load_errors

    described = [describe(s) for s in all_strategies()]
    errors = load_errors()
    if args.json:
        print(jsontext.dumps({"strategies": described,
                              "errors": [e.as_json() for e in errors]}, indent=2))  # fmt: skip
        return 0
    print_listing(described)
    print_errors(errors)
    return 0


def new_command(args: argparse.Namespace) -> int:
    from core.research.strategies import BUILTINS, all_strategies
    from core.research.strategies.user import ID_PATTERN

    strategy_id = args.id
    if not ID_PATTERN.fullmatch(strategy_id):
        raise UsageError(f"ID {strategy_id!r}: expected lowercase letters, digits and _ "
                         "(starting with a letter)")  # fmt: skip
    known = {s.id: s for s in all_strategies()}
    if strategy_id in known:
        owner = "a built-in" if strategy_id in BUILTINS else known[strategy_id].source
        raise UsageError(f"ID {strategy_id!r} is taken ({owner})")
    folder: Path = args.settings.user_strategies_dir
    code, test = folder / f"{strategy_id}.py", folder / f"test_{strategy_id}.py"
    for path in (code, test):
        if path.exists():
            raise UsageError(f"{path} exists; not overwritten")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for path, text in ((code, TEMPLATE), (test, TEST_TEMPLATE)):
            path.write_text(text.replace("STRATEGY_ID", strategy_id), encoding="utf-8")
            path.chmod(0o644)  # never group- or world-writable, whatever the umask
    except OSError as exc:
        raise UsageError(f"QD_STRATEGIES_DIR: cannot write {folder}: "
                         f"{exc.strerror or exc}") from None  # fmt: skip
    print(f"wrote {code}\nwrote {test}\n"
          f"next: edit it, then `quarterdeck strategies check {strategy_id}` and "
          f"`pytest {test}`")  # fmt: skip
    return 0


def check_command(args: argparse.Namespace) -> int:
    from core.market.loader import DataFileError, load_bars
    from core.research.strategies.checking import check_strategy

    strategies, errors = _targets(args.target)
    bars = None
    if args.data is not None:
        try:
            bars = load_bars(args.data)
        except (DataFileError, ValueError) as exc:
            raise UsageError(str(exc)) from None
    reports = [check_strategy(s, bars) for s in strategies]
    sound = not errors and all(r.ok for r in reports)
    if args.json:
        document = {"target": args.target, "ok": sound,
                    "errors": [e.as_json() for e in errors],
                    "strategies": [r.as_json() for r in reports]}  # fmt: skip
        print(jsontext.dumps(document, indent=2))
    else:
        for error in errors:
            print(f"  FAIL  {'imports':<15}{error}")
        for report in reports:
            print_report(report)
        print("sound" if sound else "NOT sound")
    return 0 if sound else EXIT_UNSOUND


def _targets(target: str) -> tuple[list[Strategy], list[LoadError]]:
    """The strategies to check and what did not load: a file's strategies, or one id."""
    from core.research.strategies import BUILTINS, get_strategy, load_errors
    from core.research.strategies.loading import load_file, merge

    path = Path(target)
    if target.endswith(".py") or path.exists():
        if not path.is_file():
            raise UsageError(f"{target}: no such file")
        loaded = merge(BUILTINS, load_file(path.resolve()))
        return loaded.strategies, loaded.errors
    try:
        return [get_strategy(target)], []
    except KeyError as exc:
        print_errors(load_errors())  # the file that defines it may be among them
        raise UsageError(str(exc)) from None


def print_report(report: Report) -> None:
    print(f"{report.strategy}  ({report.source}, version {report.version})")
    for check in report.checks:
        print(f"  {'ok  ' if check.ok else 'FAIL'}  {check.name:<15}{check.detail}")


TEMPLATE = '''\
"""STRATEGY_ID: a Quarterdeck strategy (see "Your own strategies" in the README).

Quarterdeck loads every *.py file of its strategies folder (QD_STRATEGIES_DIR)
that does not start with "_" or "test_". Check it with:

    quarterdeck strategies check STRATEGY_ID
"""

import pandas as pd

from core.sdk import Param, strategy


@strategy(
    id="STRATEGY_ID",  # unique; a built-in's id is refused
    name="Channel breakout",  # shown in listings and reports
    # Each parameter: a name, int or float, its default and the range a sweep may try.
    params=[
        Param("n", int, default=20, min=2, max=200, step=1),
        Param("m", int, default=10, min=2, max=200, step=1),
    ],
    # Optional: constraints=[("m < n", lambda p: p["m"] < p["n"])], family="trend",
    # description="...", pine="longEntry = ...\\nshortEntry = ...\\n" (Pine Script v6 body).
)
def STRATEGY_ID(bars, n, m):
    """Long when the close breaks the highest high of the previous n bars; out when it
    breaks the lowest low of the previous m bars."""
    # bars["open"|"high"|"low"|"close"|"volume"]: read-only float arrays, one per bar.
    close = bars["close"]
    # shift(1): the channel of the bars BEFORE this one. Never shift(-1): that reads the
    # future, and `strategies check` reports it as look-ahead.
    upper = pd.Series(bars["high"]).rolling(n).max().shift(1).to_numpy()
    lower = pd.Series(bars["low"]).rolling(m).min().shift(1).to_numpy()
    # Boolean arrays, one value per bar: (entries, exits) for the long side, or
    # (long entries, long exits, short entries, short exits). A comparison with NaN
    # (the warm-up) is False: no signal. A signal on bar t fills at the next open.
    return close > upper, close < lower
'''

TEST_TEMPLATE = '''\
"""Tests of STRATEGY_ID.py: run them with `pytest` on this file."""

import importlib.util
from pathlib import Path

from core.research.strategies.checking import check_strategy
from core.sdk import sample_bars

HERE = Path(__file__).with_name("STRATEGY_ID.py")
_spec = importlib.util.spec_from_file_location("STRATEGY_ID", HERE)
module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(module)


def test_returns_one_boolean_per_bar():
    bars = sample_bars(500)
    entries, exits = module.STRATEGY_ID(bars, n=20, m=10)
    assert entries.dtype == bool and entries.shape == (500,)
    assert exits.dtype == bool and exits.shape == (500,)


def test_passes_every_check():
    report = check_strategy(module.STRATEGY_ID.__quarterdeck_strategy__, speed=False)
    assert report.ok, [str(c) for c in report.checks if not c.ok]
'''
