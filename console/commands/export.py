"""`quarterdeck export`: files made from a strategy and its results."""

from __future__ import annotations

import argparse

from console.commands import report


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = commands.add_parser("export", help="export a report or a strategy to a file")
    sub = parser.add_subparsers(dest="export", metavar="WHAT", required=True)
    report.add_parser(sub)
