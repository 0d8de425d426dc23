"""Loading user strategies: the strategies folder, then the entry points.

Strategy files are code run with the process's rights, so a folder or file
that other users can write is refused, as OpenSSH's StrictModes refuses such
an ``authorized_keys``. Every file is loaded on its own: a syntax error, an
import error, an exception or a malformed strategy in one becomes a
``LoadError`` naming its file and line, and every other strategy still loads.
Files whose names start with ``_``, ``.`` or ``test_`` are not strategies
(``strategies new`` writes a ``test_ID.py`` beside each one) and are skipped.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

from core.research.strategies.base import Strategy, source_version
from core.research.strategies.user import (
    ATTRIBUTE,
    StrategyCodeError,
    describe_exception,
    raised_at,
    where,
)
from core.research.strategy_sources import ENTRY_POINT_GROUP

log = logging.getLogger(__name__)

#: The package user strategy modules are imported under (``quarterdeck_user.<stem>``).
MODULE_PREFIX = "quarterdeck_user"


@dataclass(frozen=True, slots=True)
class LoadError:
    """Why a file, a package or one strategy in it did not load."""

    source: str  # the file's path, or "package NAME"
    line: int | None
    message: str

    def __str__(self) -> str:
        place = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{place}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "line": self.line, "message": self.message,
                "error": str(self)}  # fmt: skip


@dataclass
class Loaded:
    strategies: list[Strategy] = field(default_factory=list)
    errors: list[LoadError] = field(default_factory=list)


def _error_at(place: str, message: str) -> LoadError:
    """A ``LoadError`` from a ``path:line`` place."""
    path, _, line = place.rpartition(":")
    if path and line.isdigit():
        return LoadError(path, int(line), message)
    return LoadError(place, None, message)


def unsafe(path: Path) -> str | None:
    """Why ``path`` may not hold strategy code, or None: it is writable by the group or
    other users, or owned by someone other than this user or root."""
    info = path.stat()
    kind = "folder" if stat.S_ISDIR(info.st_mode) else "file"
    writable = [who for who, bit in (("group", 0o020), ("other users", 0o002))
                if info.st_mode & bit]  # fmt: skip
    if writable:
        return (f"refused: the {kind} is writable by {' and '.join(writable)}, so anyone could "
                f"put code in it (chmod go-w {path})")  # fmt: skip
    if info.st_uid not in (0, os.getuid()):
        return f"refused: the {kind} is owned by uid {info.st_uid}, not by this user or root"
    return None


def is_strategy_file(path: Path) -> bool:
    """Whether a ``path`` in the strategies folder is one the loader imports (by name)."""
    return path.suffix == ".py" and not path.name.startswith(("_", ".", "test_"))


def strategy_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.py") if is_strategy_file(p) and p.is_file())


def module_name(path: Path) -> str:
    stem = re.sub(r"\W", "_", path.stem)
    return f"{MODULE_PREFIX}.{stem}"


def import_file(path: Path, source: bytes) -> ModuleType:
    """Run ``source``, the bytes just read from ``path``, as a fresh module (replacing an
    earlier load of it).

    The very bytes whose hash is the version are compiled, never a bytecode cache:
    import's ``__pycache__`` is keyed by the file's mtime and size, so a file saved
    twice within a second at the same size would run the older code under the newer
    version, and a file changed between hashing and import would run unhashed code.
    """
    name = module_name(path)
    if MODULE_PREFIX not in sys.modules:  # a namespace for the user modules
        sys.modules[MODULE_PREFIX] = ModuleType(MODULE_PREFIX)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as import does: dataclasses and pickling look it up
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)  # nosec B102  the user's file
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def import_error(exc: BaseException, path: Path | None = None) -> LoadError:
    """The ``LoadError`` of an import that raised ``exc``: at the line of ``path`` (the
    file imported; None: the deepest frame) it came from."""
    filename = None if path is None else str(path)
    if isinstance(exc, SyntaxError) and exc.filename:
        return LoadError(exc.filename, exc.lineno, f"SyntaxError: {exc.msg}")
    if isinstance(exc, StrategyCodeError):
        return _error_at(exc.at or raised_at(exc, filename), exc.message)
    return _error_at(raised_at(exc, filename), describe_exception(exc))


def defined_in(module: ModuleType) -> list[tuple[Any, Strategy]]:
    """(function, strategy) for each decorated function ``module`` itself defines."""
    found = []
    for value in vars(module).values():
        made = getattr(value, ATTRIBUTE, None)
        if isinstance(made, Strategy) and getattr(value, "__module__", None) == module.__name__:
            found.append((value, made))
    return found


def load_folder(folder: Path) -> Loaded:
    """Every strategy in the ``*.py`` files of ``folder`` (none if it does not exist)."""
    loaded = Loaded()
    if not folder.exists():
        return loaded
    if not folder.is_dir():
        loaded.errors.append(LoadError(str(folder), None, "not a folder (QD_STRATEGIES_DIR)"))
        return loaded
    refused = unsafe(folder)
    if refused:
        loaded.errors.append(LoadError(str(folder), None, refused))
        return loaded
    for path in strategy_files(folder):
        batch = load_file(path)
        loaded.strategies.extend(batch.strategies)
        loaded.errors.extend(batch.errors)
    return loaded


def load_file(path: Path) -> Loaded:
    """The strategies ``path`` defines, or why it may not or cannot be loaded."""
    loaded = Loaded()
    refused = unsafe(path)
    if refused:
        loaded.errors.append(LoadError(str(path), None, refused))
        return loaded
    try:
        source = path.read_bytes()
        module = import_file(path, source)
    except Exception as exc:  # anything a user's module does at import
        loaded.errors.append(import_error(exc, path))
        return loaded
    except SystemExit as exc:
        loaded.errors.append(_error_at(raised_at(exc, str(path)), f"SystemExit({exc.code})"))
        return loaded
    version = source_version(source)
    found = defined_in(module)
    if not found:
        loaded.errors.append(LoadError(str(path), None, "defines no @strategy function"))
    for fn, made in found:
        loaded.strategies.append(replace(made, source=str(path), version=version))
        log.info("strategy.load %s from %s version %s (%s)", made.id, path, version, where(fn))
    return loaded


def load_entry_points(
    entry_points: Iterable[metadata.EntryPoint] | None = None,
) -> Loaded:
    """Every strategy the ``quarterdeck.strategies`` entry points name: a module (its
    decorated functions), a decorated function, or a ``Strategy``."""
    loaded = Loaded()
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    for point in entry_points:
        dist = point.dist
        package = f"{dist.name}=={dist.version}" if dist is not None else point.value
        label = f"package {package}"
        try:
            target = point.load()
        except Exception as exc:
            error = import_error(exc)
            loaded.errors.append(
                LoadError(f"{label}: {error.source}", error.line, error.message)
            )  # fmt: skip
            continue
        if isinstance(target, ModuleType):
            found = [made for _, made in defined_in(target)]
            path = getattr(target, "__file__", None)
        else:
            made = target if isinstance(target, Strategy) else getattr(target, ATTRIBUTE, None)
            found = [made] if isinstance(made, Strategy) else []
            path = _source_file(target)
        if not found:
            message = (f"entry point {point.name} = {point.value} names no @strategy "
                       "function, module of them or Strategy")  # fmt: skip
            loaded.errors.append(LoadError(label, None, message))
            continue
        code = Path(path).read_bytes() if path else point.value.encode()
        version = f"{dist.version if dist else '0'}+{source_version(code)}"
        for made in found:
            loaded.strategies.append(replace(made, source=package, version=version))
            log.info("strategy.load %s from %s version %s", made.id, package, version)
    return loaded


def _definition_line(made: Strategy) -> int | None:
    """The line of the function a user strategy was made from."""
    fn = getattr(made.signal, "__wrapped__", None)
    code = getattr(fn, "__code__", None)
    return None if code is None else code.co_firstlineno


def _source_file(target: Any) -> str | None:
    try:
        return inspect.getsourcefile(target)
    except TypeError:
        module = sys.modules.get(getattr(target, "__module__", ""))
        return getattr(module, "__file__", None)


def merge(builtins: Mapping[str, Strategy], *batches: Loaded) -> Loaded:
    """The user strategies of ``batches`` that may join ``builtins``: an id already
    taken (by a built-in, or by an earlier file or package) is refused, naming both."""
    merged = Loaded()
    owner: dict[str, Strategy] = {}
    for batch in batches:
        merged.errors.extend(batch.errors)
        for made in batch.strategies:
            taken = builtins.get(made.id) or owner.get(made.id)
            line = _definition_line(made)
            if taken is not None:
                other = ("the built-in strategy" if taken.source == "built-in"
                         else f"the strategy from {taken.source}")  # fmt: skip
                message = (f"strategy id {made.id!r} is taken by {other} {taken.id!r} "
                           f"({taken.name}); choose another id")  # fmt: skip
                merged.errors.append(LoadError(made.source, line, message))
                continue
            owner[made.id] = made
            merged.strategies.append(made)
    return merged
