"""`--executor SPEC`: where a command's sweeps run (overrides ``QD_EXECUTOR``)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.research.executors import SweepExecutor

HELP = "where sweeps run: local, or a Dask scheduler as dask://HOST:PORT (default QD_EXECUTOR)"


def add_executor_argument(parser: argparse.ArgumentParser, dest: str = "executor") -> None:
    parser.add_argument("--executor", dest=dest, default=None, metavar="SPEC", help=HELP)


@contextmanager
def sweep_executor(args: argparse.Namespace) -> Iterator[SweepExecutor]:
    """The executor the settings name (``main`` folds ``--executor`` into them),
    closed when the command is done."""
    from core.research.executors import executor_for

    executor = executor_for(args.settings.executor)
    try:
        yield executor
    finally:
        executor.close()
