"""Where this process takes user strategies from: the strategies folder and entry points.

Kept apart from the registry (which imports every kernel) so that the command
line can say where the folder is at start-up without paying for numba; the
registry loads from here the first time a strategy that is not built in is
wanted, or the whole library is listed.
"""

from __future__ import annotations

from pathlib import Path

#: The entry-point group packages of strategies register under.
ENTRY_POINT_GROUP = "quarterdeck.strategies"

_folder: Path | None = None
_entry_points = False
_generation = 0  # bumped on every change, so the registry knows to load again


def use(folder: Path | None, entry_points: bool = True) -> None:
    """Take user strategies from ``folder`` (None: none) and, with ``entry_points``,
    from the installed packages' ``quarterdeck.strategies`` entry points."""
    global _folder, _entry_points, _generation
    _folder, _entry_points = folder, entry_points
    _generation += 1


def configured() -> tuple[Path | None, bool, int]:
    """The folder, whether entry points are read, and the configuration's generation."""
    return _folder, _entry_points, _generation
