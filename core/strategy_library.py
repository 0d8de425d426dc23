"""The user strategies as the Deck keeps them: loaded, audited, announced and reloaded.

At the Deck's start the user strategies are loaded (in a thread: loading a file
runs its code), every one that loaded is audited as ``strategy.load`` (its id,
file or package, and version) and every file that did not as
``strategy.load_failed`` (file, line, message), and ``StrategiesLoaded`` goes on
the bus: the research screens list them, the alert rules raise what failed.

Then the strategies folder is watched (``core.folder_watch``): each saved change
reloads the user strategies, and only what changed is audited (a new version, a
new or removed strategy, a new failure) and announced, so that every console
says what changed. A run already going (a job, a live strategy) keeps the
``Strategy`` it holds: a reload swaps the registry, it changes no strategy.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from core.access import SYSTEM
from core.bus import Bus
from core.events import StrategiesLoaded, StrategyVersionChange
from core.folder_watch import watch_folder
from core.guard import record
from core.research import strategy_sources
from core.research.strategies import (
    BUILTINS,
    REGISTRY,
    LoadError,
    load_errors,
    load_user_strategies,
)
from core.research.strategies.loading import is_strategy_file
from core.store import Store
from core.tasks import cancel_and_wait

log = logging.getLogger(__name__)

#: A user strategy as one load saw it: its id -> (file or package, version).
Known = Mapping[str, tuple[str, str]]


def user_strategies() -> dict[str, tuple[str, str]]:
    """The user strategies in the registry now, by id: (file or package, version)."""
    return {s.id: (s.source, s.version) for s in REGISTRY.values() if s.id not in BUILTINS}


def version_changes(before: Known, after: Known) -> tuple[StrategyVersionChange, ...]:
    """What differs between two loads, by strategy id: new, changed (version or
    file) and removed strategies."""
    changes = []
    for strategy_id in sorted(before.keys() | after.keys()):
        old, new = before.get(strategy_id), after.get(strategy_id)
        if old == new:
            continue
        source = (new or old or ("", ""))[0]
        changes.append(StrategyVersionChange(strategy_id, source, old and old[1], new and new[1]))
    return tuple(changes)


def where_from(source: str) -> dict[str, str]:
    """An audit detail's name for a strategy's source: its ``file``, or its ``package``."""
    return {"file": source} if os.path.isabs(source) else {"package": source}


def audit_entries(
    changes: tuple[StrategyVersionChange, ...], failed: tuple[LoadError, ...]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(action, subject, detail) for each change and each new failure."""
    entries = []
    for c in changes:
        if c.new is None:
            entries.append(("strategy.unload", c.strategy,
                            {**where_from(c.source), "version": c.old}))  # fmt: skip
            continue
        detail: dict[str, Any] = {**where_from(c.source), "version": c.new}
        if c.old is not None:
            detail["previous_version"] = c.old
        entries.append(("strategy.load", c.strategy, detail))
    for e in failed:
        entries.append(("strategy.load_failed", e.source,
                        {"file": e.source, "line": e.line, "message": e.message}))  # fmt: skip
    return entries


class StrategyLibrary:
    """A Deck service (``start``/``stop``): the start-up load, then the reloads."""

    def __init__(self, bus: Bus, store: Store) -> None:
        self._bus = bus
        self._store = store
        self._known: Known = {}
        self._errors: tuple[LoadError, ...] = ()
        self._lock = asyncio.Lock()  # one load at a time: their differences chain
        self._stop = asyncio.Event()
        self._watch: asyncio.Task[None] | None = None
        self.latest: StrategiesLoaded | None = None

    async def start(self) -> None:
        self._stop.clear()
        await self._load(reload=False)
        folder = strategy_sources.configured()[0]
        if folder is not None and self._watch is None:
            self._watch = asyncio.create_task(
                watch_folder(folder, is_strategy_file, self._changed, self._stop),
                name="strategy-watch",
            )

    async def stop(self) -> None:
        self._stop.set()
        await cancel_and_wait(self._watch)
        self._watch = None

    async def reload(self) -> StrategiesLoaded:
        """Load the user strategies again, audit and announce what changed."""
        return await self._load(reload=True)

    async def _changed(self) -> None:
        """The folder changed: reload, whatever happens the watch goes on."""
        try:
            await self.reload()
        except Exception:
            log.exception("reloading the user strategies failed")

    async def _load(self, reload: bool) -> StrategiesLoaded:
        async with self._lock:
            loaded = await asyncio.to_thread(self._load_and_audit, reload)
        self.latest = loaded
        self._bus.publish(loaded)
        return loaded

    def _load_and_audit(self, reload: bool) -> StrategiesLoaded:
        """(Blocking.) At start, what is loaded already (or a first load); on a reload,
        a new load. What differs from the last load is audited."""
        errors = tuple(load_user_strategies() if reload else load_errors())
        known = user_strategies()
        changes = version_changes(self._known, known)
        failed = tuple(e for e in errors if e not in self._errors)
        self._known, self._errors = known, errors
        for change in changes:
            log.info("strategy %s: %s -> %s (%s)", change.strategy, change.old or "new",
                     change.new or "removed", change.source)  # fmt: skip
        for error in failed:
            log.warning("strategy code did not load: %s", error)
        for action, subject, detail in audit_entries(changes, failed):
            try:
                record(self._store, SYSTEM, action, subject, detail)
            except Exception:  # an unaudited load must not stop the others, nor the Deck
                log.exception("%s %s not audited", action, subject)
        return StrategiesLoaded(time.time(), reload, changes, errors, failed)
