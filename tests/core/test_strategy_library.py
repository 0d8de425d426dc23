"""The user strategies as the Deck keeps them: the start-up load and the reloads on a
saved change (real files in a private folder, a real watcher), each audited, announced
on the bus and raised as an alert when a file does not load; the registry swapped
whole under readers in other threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.audit import read_entries
from core.bus import Bus
from core.events import AlertRaised, Severity, StrategiesLoaded, StrategyVersionChange
from core.health.alerts import AlertEvaluator, AlertRules
from core.research import strategy_sources
from core.research.strategies import (
    BUILTINS,
    REGISTRY,
    LoadError,
    get_strategy,
    load_user_strategies,
)
from core.sdk import sample_bars
from core.store import Store
from core.strategy_library import StrategyLibrary
from tests.strategy_files import CHANNEL_BREAKOUT
from tests.strategy_files import write_strategy as write

TIMEOUT = 30.0  # generous: the watcher hands a save on within a quarter of a second

BREAKOUT = CHANNEL_BREAKOUT
MOMENTUM = """\
from core.sdk import Param, strategy


@strategy(id="momentum", name="Momentum", params=[Param("n", int, 5, 1, 50, 1)])
def momentum(bars, n):
    close = bars["close"]
    past = close.copy()
    past[n:] = close[:-n]
    return close > past * 1.01, close < past * 0.99
"""
BROKEN = "from core.sdk import strategy\n\n\ndef oops(:\n    pass\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'quarterdeck.db'}")
    store.create_schema()
    yield store
    store.dispose()


@pytest.fixture
async def library(store: Store, strategy_folder: Path) -> AsyncIterator[StrategyLibrary]:
    """A library on a bus of the test's loop, not started: each test starts it."""
    bus = Bus()
    bus.attach(asyncio.get_running_loop())
    library = StrategyLibrary(bus, store)
    yield library
    await library.stop()


def audited(store: Store) -> list[tuple[str, str, dict[str, object]]]:
    return [(e.action, e.subject, {k: v for k, v in e.detail.items() if k != "source"})
            for e in read_entries(store, "strategy.")]  # fmt: skip


async def next_load(library: StrategyLibrary, subscription, reload: bool = True):
    """The next ``StrategiesLoaded`` the library announces (a reload, by default)."""

    async def wait() -> StrategiesLoaded:
        async for event in subscription:
            if event.reload is reload:
                return event
        raise AssertionError("the subscription closed")

    return await asyncio.wait_for(wait(), TIMEOUT)


async def test_start_audits_each_user_strategy_and_each_failed_file(
    library: StrategyLibrary, strategy_folder: Path, store: Store
) -> None:
    good = write(strategy_folder, "channel_breakout.py", BREAKOUT)
    bad = write(strategy_folder, "broken.py", BROKEN)
    await library.start()
    loaded = library.latest
    assert loaded is not None and loaded.reload is False
    version = get_strategy("channel_breakout").version
    assert loaded.changes == (StrategyVersionChange("channel_breakout", str(good), None, version),)
    assert [str(e) for e in loaded.errors] == [f"{bad}:4: SyntaxError: invalid syntax"]
    assert audited(store) == [
        ("strategy.load", "channel_breakout", {"file": str(good), "version": version}),
        ("strategy.load_failed", str(bad),
         {"file": str(bad), "line": 4, "message": "SyntaxError: invalid syntax"}),
    ]  # fmt: skip


async def test_reload_audits_only_what_changed(
    library: StrategyLibrary, strategy_folder: Path, store: Store
) -> None:
    write(strategy_folder, "channel_breakout.py", BREAKOUT)
    momentum = write(strategy_folder, "momentum.py", MOMENTUM)
    await library.start()
    before = get_strategy("channel_breakout").version
    kept = get_strategy("momentum")
    start_entries = len(audited(store))
    changed = write(
        strategy_folder, "channel_breakout.py", BREAKOUT.replace("rolling(m)", "rolling(m + 1)")
    )
    bad = write(strategy_folder, "broken.py", BROKEN)
    loaded = await library.reload()
    after = get_strategy("channel_breakout").version
    assert after != before
    assert loaded.changes == (
        StrategyVersionChange("channel_breakout", str(changed), before, after),
    )
    assert [e.source for e in loaded.new_errors] == [str(bad)]
    assert audited(store)[start_entries:] == [
        ("strategy.load", "channel_breakout",
         {"file": str(changed), "version": after, "previous_version": before}),
        ("strategy.load_failed", str(bad),
         {"file": str(bad), "line": 4, "message": "SyntaxError: invalid syntax"}),
    ]  # fmt: skip
    assert get_strategy("momentum").version == kept.version  # reloaded, not audited again
    momentum.unlink()
    again = await library.reload()  # the broken file fails as before: not audited again
    assert again.changes == (StrategyVersionChange("momentum", str(momentum), kept.version, None),)
    assert again.new_errors == () and len(again.errors) == 1
    assert audited(store)[-1] == ("strategy.unload", "momentum",
                                  {"file": str(momentum), "version": kept.version})  # fmt: skip


async def test_saved_change_reloads_and_is_announced(
    library: StrategyLibrary, strategy_folder: Path
) -> None:
    path = write(strategy_folder, "channel_breakout.py", BREAKOUT)
    held = get_strategy("channel_breakout")
    with library._bus.subscribe(StrategiesLoaded) as loads:
        await library.start()
        await next_load(library, loads, reload=False)
        write(strategy_folder, "channel_breakout.py", BREAKOUT.replace("shift(1)", "shift(2)"))
        loaded = await next_load(library, loads)
    now = get_strategy("channel_breakout")
    assert loaded.changes == (
        StrategyVersionChange("channel_breakout", str(path), held.version, now.version),
    )
    assert now.version != held.version
    bars = sample_bars(300)  # a run holding the old strategy keeps it, and it still runs
    codes = held.signal(*(bars[c] for c in ("open", "high", "low", "close", "volume")), 20, 10)
    assert held.version == loaded.changes[0].old and codes.shape == (300,)


async def test_folder_created_after_start_is_watched(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "later" / "strategies"
    strategy_sources.use(folder, entry_points=False)
    bus = Bus()
    bus.attach(asyncio.get_running_loop())
    library = StrategyLibrary(bus, store)
    try:
        with bus.subscribe(StrategiesLoaded) as loads:
            await library.start()
            assert (await next_load(library, loads, reload=False)).changes == ()
            folder.mkdir(parents=True, mode=0o700)
            write(folder, "momentum.py", MOMENTUM)
            loaded = await next_load(library, loads)
            while "momentum" not in REGISTRY:  # the folder first, then the file
                loaded = await next_load(library, loads)
        assert [c.strategy for c in loaded.changes] == ["momentum"]
    finally:
        await library.stop()
        strategy_sources.use(None, entry_points=False)
        load_user_strategies()


async def test_refused_folder_is_reported_and_still_watched(
    library: StrategyLibrary, strategy_folder: Path
) -> None:
    strategy_folder.chmod(0o777)
    write(strategy_folder, "momentum.py", MOMENTUM)
    with library._bus.subscribe(StrategiesLoaded) as loads:
        await library.start()
        loaded = await next_load(library, loads, reload=False)
        assert [e.source for e in loaded.errors] == [str(strategy_folder)]
        assert "writable by group and other users" in loaded.errors[0].message
        strategy_folder.chmod(0o700)
        write(strategy_folder, "momentum.py", MOMENTUM + "\n")
        while "momentum" not in REGISTRY:
            loaded = await next_load(library, loads)
    assert loaded.errors == ()


def test_strategy_load_alert_raised_per_place_and_cleared() -> None:
    raised: list[AlertRaised] = []
    rules = AlertEvaluator(Bus(), AlertRules(), sinks=[raised.append], clock=lambda: 100.0)
    error = LoadError("/s/broken.py", 4, "SyntaxError: invalid syntax")
    rules.observe(StrategiesLoaded(1.0, False, (), (error,), (error,)))
    rules.observe(StrategiesLoaded(2.0, True, (), (error,), ()))  # still failing: once
    rules.observe(StrategiesLoaded(3.0, True, (), (), ()))
    assert [(a.rule, a.subject, a.severity, a.active, a.message) for a in raised] == [
        ("strategy_load", "/s/broken.py:4", Severity.WARNING, True,
         "strategy code did not load: /s/broken.py:4: SyntaxError: invalid syntax"),
        ("strategy_load", "/s/broken.py:4", Severity.INFO, False,
         "cleared: strategy load /s/broken.py:4"),
    ]  # fmt: skip


def test_readers_in_other_threads_see_the_library_whole_during_reloads(
    strategy_folder: Path,
) -> None:
    write(strategy_folder, "channel_breakout.py", BREAKOUT)
    load_user_strategies()
    whole = {len(BUILTINS), len(BUILTINS) + 1}
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(len(list(REGISTRY.values())))
            seen.add(sum(1 for _ in REGISTRY))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(20):  # the file comes and goes: the registry grows and shrinks
            path = strategy_folder / "channel_breakout.py"
            if i % 2:
                write(strategy_folder, "channel_breakout.py", BREAKOUT)
            else:
                path.unlink()
            load_user_strategies()
    finally:
        done.set()
        reader.join()
    assert seen and seen <= whole  # never a library half swapped
