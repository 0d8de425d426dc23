"""A strategy by id for the live engine, or the reason it cannot be had.

The registry says an id is unknown; whoever configured a user strategy wants to
know why: the file that names it did not load (``file:line: message``). A
restart wants the newest code of a running strategy: the folder is to be loaded
again (``stale``) when the strategy's file changed on disk since it was loaded (a
hot reload may have done so already), or when the id is not in the registry now.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from core.research import strategy_sources
from core.research.strategies import (
    LoadError,
    Strategy,
    get_strategy,
    load_errors,
)
from core.research.strategies.base import source_version


def find(strategy_id: str) -> Strategy:
    """The registry's ``strategy_id``, or a ``ValueError`` saying why there is none."""
    try:
        return get_strategy(strategy_id)
    except KeyError:
        raise ValueError(unknown(strategy_id)) from None


def stale(strategy_id: str) -> bool:
    """Whether the registry may not hold the newest code of ``strategy_id`` (blocking:
    it reads the strategy's file): it is not there, or its file changed since."""
    try:
        return changed_on_disk(get_strategy(strategy_id))
    except KeyError:
        return True


def changed_on_disk(strategy: Strategy) -> bool:
    """Whether a strategy file's source is not the one ``strategy`` was loaded from (a
    built-in's or a package's code does not change under a running process)."""
    if not os.path.isabs(strategy.source):
        return False
    try:
        return source_version(Path(strategy.source).read_bytes()) != strategy.version
    except OSError:  # removed or unreadable: loading again says what became of it
        return True


def unknown(strategy_id: str) -> str:
    """Why ``strategy_id`` is not in the registry, on one line: the load error of a file
    that names it, if one did not load; else where it was looked for."""
    failed = [error for error in load_errors() if names(error, strategy_id)]
    if failed:
        return f"unknown strategy {strategy_id!r}: its file did not load: {failed[0]}"
    folder = strategy_sources.configured()[0]
    looked = "not built in" if folder is None else f"not built in, nor in {folder}"
    return (f"unknown strategy {strategy_id!r} ({looked}; `quarterdeck strategies` lists "
            "them)")  # fmt: skip


def names(error: LoadError, strategy_id: str) -> bool:
    """Whether the file of ``error`` is ``strategy_id``'s: named after it, or declaring
    ``id="strategy_id"``."""
    path = Path(error.source)
    if path.stem == strategy_id:
        return True
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(rf"""\bid\s*=\s*["']{re.escape(strategy_id)}["']""", text) is not None
