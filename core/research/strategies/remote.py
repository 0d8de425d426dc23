"""A strategy named so that another process can load it: a Dask worker, say.

A ``Strategy`` holds compiled code and closures, which cannot be pickled by
reference into a process that never loaded its file. A ``StrategyRef`` carries
what such a process needs instead: the id, where the code comes from (built-in,
a strategy file's path, or a package) and the version the sweep was started
with. The process loads the code the way this one did, from its own disk
(strategy files are never shipped as source: code is loaded only from a folder
or package the host trusts, with the same ownership checks), and refuses a
version other than the one expected, so a sweep never mixes two versions of a
strategy.
"""

from __future__ import annotations

import functools
import socket
from dataclasses import dataclass
from pathlib import Path

from core.research.strategies.base import Strategy
from core.research.strategies.loading import Loaded, load_entry_points, load_file
from core.research.strategies.user import StrategyCodeError


@dataclass(frozen=True, slots=True)
class StrategyRef:
    id: str
    source: str  # "built-in", a strategy file's path, or a package's "NAME==VERSION"
    version: str

    @classmethod
    def of(cls, strategy: Strategy) -> StrategyRef:
        return cls(strategy.id, strategy.source, strategy.version)

    def load(self) -> Strategy:
        """The strategy, loaded in this process as the sweep's process loaded it; a
        ``StrategyCodeError`` if it is not there or is another version."""
        return _load(self)


@functools.cache
def _load(ref: StrategyRef) -> Strategy:
    """Cached per reference: a version is only loaded once per process (and a file that
    changes later is a new version, so a new reference)."""
    if ref.source == "built-in":
        from core.research.strategies import BUILTINS

        found = BUILTINS.get(ref.id)
        batch = Loaded(strategies=[found] if found else [])
        where = "this installation of Quarterdeck"
    elif Path(ref.source).is_absolute():
        batch = load_file(Path(ref.source))
        where = ref.source
    else:
        batch = load_entry_points()
        where = "the installed packages"
    found = next((s for s in batch.strategies if s.id == ref.id), None)
    if found is None:
        errors = "; ".join(str(e) for e in batch.errors) or f"no strategy {ref.id!r} there"
        raise StrategyCodeError(f"strategy {ref.id!r} did not load from {where}: {errors}")
    if found.version != ref.version:
        raise StrategyCodeError(
            f"strategy {ref.id!r} is version {found.version} in {where} on "
            f"{socket.gethostname()}, but the sweep "
            f"runs version {ref.version}: give this worker the same code (or reload)"
        )
    return found
