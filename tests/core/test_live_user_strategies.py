"""User strategies in the live engine: configured by id from the strategies folder, each
running the code it started with, stopped alone when its code fails, restarted on
newer code by an operator, and every fill recording the version that traded.

Real files in a private folder, a real Deck (store, journal, audit) driven bar by
bar with simulated bars, as the feed gives them.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.access import Principal, Role
from core.bus import Bus
from core.config import ConfigurationError, LiveStrategy, Settings, load_settings
from core.deck import Deck
from core.events import AlertRaised, Bar, Fill, StrategyChanged, Tick
from core.market.history import simulated_bars
from core.research import strategy_sources
from core.research.backtest import BacktestConfig, run_kernel
from core.research.strategies import (
    get_strategy,
    load_user_strategies,
)
from core.store import JournalRow, Store
from core.trading.engine import LiveEngine, StrategySpec
from core.trading.fill_model import FillModel
from core.trading.journal import Journal, account_entries, recover
from tests.strategy_files import write_strategy as write

ALICE = Principal("alice", Role.OPERATOR)
FAST = {"fast": 3, "slow": 8}

#: Long while the close is above the highest high of the ``n`` bars before; out below
#: the lowest low of ``m``; raises on the live window's ``fail_at``-th bar (0: never; the
#: decorator's load-time call has 300 bars, the engine's window grows one per bar).
CHANNEL = """\
import pandas as pd
from core.sdk import Param, strategy


@strategy(
    id="channel_breakout",
    name="Channel breakout",
    params=[Param("n", int, default=20, min=2, max=200, step=1),
            Param("m", int, default=10, min=2, max=200, step=1),
            Param("fail_at", int, default=0, min=0, max=10_000, step=1)],
)
def channel_breakout(bars, n, m, fail_at):
    close = bars["close"]
    if close.shape[0] == fail_at:
        raise RuntimeError("the desk's rule broke")
    upper = pd.Series(bars["high"]).rolling(n).max().shift(1).to_numpy()
    lower = pd.Series(bars["low"]).rolling(m).min().shift(1).to_numpy()
    return close > upper, close < lower
"""
RAISING_LINE = (
    CHANNEL.splitlines().index('        raise RuntimeError("the desk\'s rule broke")') + 1
)

#: Always long (version 1); ``EXITS`` makes it get out on every bar (version 2).
HOLDER = """\
from core.sdk import Param, strategy


@strategy(id="holder", name="Holder", lookback=5,
          params=[Param("k", int, default=3, min=1, max=10, step=1)])
def holder(bars, k):
    close = bars["close"]
    return close > 0, close < 0
"""
EXITS = HOLDER.replace("return close > 0, close < 0", "return close < 0, close > 0  # get out")


@pytest.fixture
def folder(strategy_folder: Path) -> Path:
    return strategy_folder  # tests/conftest.py: private, and the registry restored after


async def deck_running(settings: Settings, *live: LiveStrategy) -> Deck:
    deck = Deck(settings.model_copy(update={"sim_symbols": ["BTCUSD"], "strategies": list(live)}))
    await asyncio.to_thread(deck.store.create_schema)
    return deck


def drive(deck: Deck, bars: dict[str, np.ndarray], start: int, stop: int) -> None:
    """Bars ``start:stop`` as the feed gives them: the opening tick, then the bar."""
    for i in range(start, stop):
        o, h, lo, c, v = (float(bars[k][i]) for k in ("open", "high", "low", "close", "volume"))
        ts = float(bars["ts"][i])
        deck.engine.handle(Tick("BTCUSD", ts, o, 1.0))
        deck.engine.handle(Bar("BTCUSD", ts, o, h, lo, c, v))


def audit(deck: Deck, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    rows = sqlite3.connect(deck.settings.data_dir / "quarterdeck.db").execute(
        "SELECT actor, subject, detail_json FROM audit WHERE action = ? ORDER BY seq", (action,)
    )
    return [(actor, subject, json.loads(detail)) for actor, subject, detail in rows]


async def test_a_user_strategy_trades_live_as_its_backtest_and_its_fills_carry_its_version(
    settings: Settings, folder: Path
) -> None:
    write(folder, "channel_breakout.py", CHANNEL)
    params = {"n": 10, "m": 5}
    deck = await deck_running(settings, LiveStrategy(id="channel_breakout", params=params))
    strategy = deck.engine.specs_by_id["channel_breakout"].strategy
    assert strategy.source == str(folder / "channel_breakout.py")
    bars = simulated_bars("BTCUSD", 7, 600, 3600, 60)
    drive(deck, bars, 0, 600)
    deck.engine.checkpoint()

    config = BacktestConfig(cash=settings.starting_cash, commission=settings.commission,
                            size=settings.position_fraction)  # fmt: skip
    signals = strategy.signals(bars, strategy.resolve(params))
    equity, *_, trades = run_kernel(bars, signals, config)
    deck.engine.portfolio.mark("BTCUSD", float(bars["close"][-1]), float(bars["ts"][-1]))
    assert deck.engine.portfolio.equity == pytest.approx(equity[-1], rel=1e-9)
    journaled = [e for e in deck.engine._journal.read() if isinstance(e, Fill)]  # type: ignore[union-attr]
    assert sum(f.side == "buy" for f in journaled) == trades > 2
    assert {f.strategy_version for f in journaled} == {strategy.version}
    rows = sqlite3.connect(settings.data_dir / "quarterdeck.db").execute(
        "SELECT DISTINCT strategy_version FROM fills"
    )
    assert [row[0] for row in rows] == [strategy.version]
    deck.store.dispose()


async def test_a_strategy_raising_on_its_third_bar_is_stopped_alone_its_position_kept(
    settings: Settings, folder: Path
) -> None:
    always_long = CHANNEL.replace(
        "return close > upper, close < lower", "return close > 0, close < 0"
    )
    path = write(folder, "channel_breakout.py", always_long)
    user = LiveStrategy(id="channel_breakout", params={"n": 2, "m": 2, "fail_at": 3})
    deck = await deck_running(settings, user, LiveStrategy(id="sma_cross", params=FAST))
    changes, alerts = deck.bus.subscribe(StrategyChanged), deck.bus.subscribe(AlertRaised)
    bars = simulated_bars("BTCUSD", 7, 400, 3600, 60)
    drive(deck, bars, 0, 3)
    await deck.engine.flush()

    book = deck.engine.books["channel_breakout", "BTCUSD"]
    assert book.units > 0  # bought at the second bar's open, before the third broke
    assert deck.engine.stopped == {"channel_breakout"}
    (change,) = changes.drain()
    where = f"{path}:{RAISING_LINE}"
    assert (change.strategy, change.running, change.who) == ("channel_breakout", False, "engine")
    assert change.why == f"{where}: RuntimeError: the desk's rule broke"
    ((actor, subject, detail),) = audit(deck, "strategy.stop")
    assert (actor, subject, detail["at"], detail["symbol"]) == (
        "engine", "channel_breakout", where, "BTCUSD",
    )  # fmt: skip
    assert detail["version"] == deck.engine.specs_by_id["channel_breakout"].strategy.version
    deck.alerting.rules.observe(change)
    (alert,) = alerts.drain()
    assert (alert.rule, alert.subject) == ("strategy_fault", "channel_breakout")
    assert where in alert.message and "positions kept" in alert.message

    held, fills = book.units, deck.engine.ledgers["channel_breakout"].fills
    sma_fills = deck.engine.ledgers["sma_cross"].fills
    drive(deck, bars, 3, 400)  # the engine goes on: no exception escapes ``handle``
    assert (book.units, deck.engine.ledgers["channel_breakout"].fills) == (held, fills)
    assert deck.engine.ledgers["sma_cross"].fills > sma_fills
    deck.engine.checkpoint()
    recovered = recover(deck.engine._journal.read(), settings.starting_cash)  # type: ignore[union-attr]
    assert recovered.stopped == {"channel_breakout"}  # a restart of the process keeps it so
    deck.store.dispose()


def test_a_builtin_that_raises_is_stopped_too_and_the_engine_goes_on() -> None:
    def broken(*arguments: Any) -> np.ndarray:
        raise IndexError("a bug in a kernel")

    bug = replace(get_strategy("sma_cross"), id="buggy", signal=broken)
    bus = Bus()
    changes = bus.subscribe(StrategyChanged)
    engine = LiveEngine(bus, [StrategySpec(bug, FAST, ("A",), 50_000.0),
                              StrategySpec(get_strategy("ema_cross"), FAST, ("A",), 50_000.0)],
                        run_id="t", fill_model=FillModel(0.001))  # fmt: skip
    bars = simulated_bars("A", 5, 300, 3600, 60)
    for i in range(300):
        o, h, lo, c, v = (float(bars[k][i]) for k in ("open", "high", "low", "close", "volume"))
        engine.handle(Tick("A", float(bars["ts"][i]), o, 1.0))
        engine.handle(Bar("A", float(bars["ts"][i]), o, h, lo, c, v))
    engine.publish()
    (change,) = changes.drain()
    assert change.who == "engine" and change.why.endswith("IndexError: a bug in a kernel")
    assert __file__ in change.why
    assert engine.ledgers["ema_cross"].fills > 0 and engine.ledgers["buggy"].fills == 0


async def test_a_restart_runs_the_newest_version_keeping_positions_and_is_audited(
    settings: Settings, folder: Path
) -> None:
    path = write(folder, "holder.py", HOLDER)
    deck = await deck_running(settings, LiveStrategy(id="holder"))
    first = deck.engine.specs_by_id["holder"].strategy
    bars = simulated_bars("BTCUSD", 7, 40, 3600, 60)
    drive(deck, bars, 0, 10)
    book = deck.engine.books["holder", "BTCUSD"]
    held, fills = book.units, deck.engine.ledgers["holder"].fills
    assert held > 0 and fills == 1

    write(folder, "holder.py", EXITS)
    load_user_strategies()  # a reload of the folder (the console's watcher does this)
    assert get_strategy("holder").version != first.version
    drive(deck, bars, 10, 15)
    assert deck.engine.specs_by_id["holder"].strategy is first  # it runs what it started with
    assert book.units == held

    old, new = await deck.restart_strategy(ALICE, "get out for the night", "holder")
    assert (old, new) == (first.version, get_strategy("holder").version)
    assert deck.engine.specs_by_id["holder"].strategy.version == new
    assert (book.units, deck.engine.ledgers["holder"].fills) == (held, fills)  # kept
    ((actor, subject, detail),) = audit(deck, "strategy.restart")
    assert (actor, subject, detail["old_version"], detail["new_version"], detail["why"]) == (
        "alice", "holder", old, new, "get out for the night",
    )  # fmt: skip
    assert detail["strategy_source"] == str(path)

    drive(deck, bars, 15, 17)  # the new code's exit, at the next bar's open
    assert book.units == 0
    deck.engine.checkpoint()
    journaled = [e for e in deck.engine._journal.read() if isinstance(e, Fill)]  # type: ignore[union-attr]
    assert [f.strategy_version for f in journaled] == [old, new]
    deck.store.dispose()


async def test_a_restart_that_loads_a_changed_file_audits_that_load(
    settings: Settings, folder: Path
) -> None:
    """No watcher saw the save: the restart loads the folder through the Deck's library,
    so the new version is audited (and announced) as a save's would be."""
    write(folder, "holder.py", HOLDER)
    deck = await deck_running(settings, LiveStrategy(id="holder"))
    write(folder, "holder.py", EXITS)
    old, new = await deck.restart_strategy(ALICE, "new rule", "holder")
    assert old != new
    loads = [detail for _, subject, detail in audit(deck, "strategy.load") if subject == "holder"]
    assert loads[-1]["version"] == new
    deck.store.dispose()


async def test_a_restart_to_code_that_does_not_load_or_fit_is_refused_and_the_old_runs_on(
    settings: Settings, folder: Path
) -> None:
    path = write(folder, "holder.py", HOLDER)
    deck = await deck_running(settings, LiveStrategy(id="holder", params={"k": 5}))
    first = deck.engine.specs_by_id["holder"].strategy
    bars = simulated_bars("BTCUSD", 7, 40, 3600, 60)
    drive(deck, bars, 0, 5)
    held = deck.engine.books["holder", "BTCUSD"].units

    write(folder, "holder.py", HOLDER.replace("def holder(bars, k):", "def holder(bars, k)"))
    with pytest.raises(
        ValueError, match=rf"does not load: .*{re.escape(str(path))}:6: SyntaxError"
    ):
        await deck.restart_strategy(ALICE, "try the fix", "holder")
    write(folder, "holder.py", HOLDER.replace("max=10", "max=4"))
    with pytest.raises(ValueError, match=r"no longer fit.*k: 5 is outside \[1, 4\]"):
        await deck.restart_strategy(ALICE, "try again", "holder")

    assert deck.engine.specs_by_id["holder"].strategy is first
    assert deck.engine.stopped == set()
    drive(deck, bars, 5, 10)
    assert deck.engine.books["holder", "BTCUSD"].units == held
    assert audit(deck, "strategy.restart") == []
    deck.store.dispose()


async def test_a_strategy_the_engine_stopped_runs_again_once_restarted_on_fixed_code(
    settings: Settings, folder: Path
) -> None:
    write(folder, "channel_breakout.py", CHANNEL)
    user = LiveStrategy(id="channel_breakout", params={"n": 2, "m": 2, "fail_at": 3})
    deck = await deck_running(settings, user)
    bars = simulated_bars("BTCUSD", 7, 300, 3600, 60)
    drive(deck, bars, 0, 3)
    assert deck.engine.stopped == {"channel_breakout"}

    write(folder, "channel_breakout.py", CHANNEL.replace("shape[0] == fail_at", "shape[0] < 0"))
    await deck.restart_strategy(ALICE, "fixed the rule", "channel_breakout")
    assert deck.engine.stopped == set()
    drive(deck, bars, 3, 300)
    assert deck.engine.ledgers["channel_breakout"].fills > 0
    deck.store.dispose()


def test_a_config_naming_a_broken_or_unknown_user_strategy_says_why_on_one_line(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = CHANNEL.replace("channel_breakout", "desk_rule")
    broken = write(folder, "desk_rule.py", text.replace("pd\n", "pd\nundefined_name\n", 1))
    write(folder, "holder.py", HOLDER)
    strategy_sources.use(None, entry_points=False)  # the configuration says where to look
    config = tmp_path / "config.toml"
    monkeypatch.setenv("QD_CONFIG_FILE", str(config))
    for strategy_id, why in [
        ("desk_rule", f"its file did not load: {broken}:2: NameError: name 'undefined_name'"),
        ("nope", f"unknown strategy 'nope' (not built in, nor in {folder}"),
    ]:
        config.write_text(f'strategies_dir = "{folder}"\n[[strategies]]\nid = "{strategy_id}"\n')
        with pytest.raises(ConfigurationError) as refused:
            load_settings()
        message = str(refused.value)
        assert "\n" not in message and str(config) in message and why in message

    config.write_text(f'strategies_dir = "{folder}"\n[[strategies]]\nid = "holder"\n')
    assert [live.id for live in load_settings().strategies] == ["holder"]


def test_a_journal_from_before_versions_reads_its_fills_as_unknown(store: Store) -> None:
    old = {"fill_id": 1, "order_id": 1, "strategy": "sma_cross", "symbol": "A",
           "side": "buy", "quantity": 2.0, "price": 10.0, "commission": 0.0, "ts": 1.0,
           "slippage": 0.0}  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(JournalRow.__table__.insert(), [  # type: ignore[attr-defined]
            {"run_id": "r", "account_id": "acct", "kind": "fill", "ts": 1.0,
             "payload_json": json.dumps(old)},
        ])  # fmt: skip
    (fill,) = account_entries(store, "acct")
    assert isinstance(fill, Fill) and fill.strategy_version == "unknown"
    assert Journal(store, "r").read() == [fill]
