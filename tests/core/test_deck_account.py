"""The Deck's account continues across starts: the simulator from its last prices and
time, fill and order ids after the last ones, the recovery audited; one process per
account; a reset starts over and keeps the old account readable."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess

import pytest

from core.access import SYSTEM
from core.audit import read_entries
from core.config import Settings
from core.deck import Deck
from core.store import Store, accounts
from core.trading.account import account_fills
from core.trading.journal import Journal


async def trade_until_fills(deck: Deck, fills: int) -> None:
    for _ in range(400):
        await asyncio.sleep(0.05)
        if deck.engine.portfolio.fills >= fills:
            return
    pytest.fail(f"the engine made {deck.engine.portfolio.fills} fills, not {fills}")


async def test_a_second_start_continues_the_account_and_audits_the_recovery(
    settings: Settings,
) -> None:
    first = Deck(settings)
    await first.start()
    await trade_until_fills(first, 3)
    await first.stop()
    before = first.engine.portfolio
    prices = dict(first.feed.last_prices)
    last_ts = first.engine.portfolio.ts
    next_order_id = first.engine.execution.next_order_id

    second = Deck(settings)
    await second.start()
    try:
        assert second.account is not None and second.recovered_at is not None
        assert second.account.account.id == first.account.account.id  # type: ignore[union-attr]
        now = second.engine.portfolio
        assert (now.cash, now.realized_pnl, now.commissions, now.fills) == (
            before.cash, before.realized_pnl, before.commissions, before.fills)  # fmt: skip
        assert second.engine.execution.next_order_id == next_order_id
        await asyncio.sleep(0.3)
        for symbol, price in prices.items():  # the simulator carries on from the last price
            moved = abs(second.feed.last_prices[symbol] / price - 1)
            assert moved < 0.05, (symbol, price, second.feed.last_prices[symbol])
        await trade_until_fills(second, before.fills + 2)
    finally:
        await second.stop()
    fills = account_fills(second.store, second.account.account.id)
    assert [f.fill_id for f in fills] == list(range(1, len(fills) + 1))
    assert {f.run_id for f in fills} == {first.run_id, second.run_id}
    later = [f for f in fills if f.run_id == second.run_id]
    assert min(f.ts for f in later) > last_ts  # time never goes back across the restart
    store = Store(settings.resolved_database_url)
    recovered = [e for e in read_entries(store, "account.") if e.action == "account.recovered"]
    store.dispose()
    assert len(recovered) == 1 and recovered[0].detail["fills"] == before.fills
    assert recovered[0].detail["run_id"] == second.run_id


async def test_fills_reach_the_fills_table_only_with_their_journal_entry(
    settings: Settings,
) -> None:
    deck = Deck(settings)
    await deck.start()
    try:
        await trade_until_fills(deck, 2)
    finally:
        await deck.stop()
    database = sqlite3.connect(settings.data_dir / "quarterdeck.db")
    journal = database.execute("SELECT payload_json FROM journal WHERE kind = 'fill' "
                               "ORDER BY seq").fetchall()  # fmt: skip
    table = database.execute("SELECT fill_id, account_id FROM fills ORDER BY id").fetchall()
    assert len(journal) == len(table) == deck.engine.portfolio.fills
    assert {account for _, account in table} == {deck.account.account.id}  # type: ignore[union-attr]


def test_a_journal_commit_writes_its_fills_in_the_same_transaction(settings: Settings) -> None:
    from core.events import Fill, Side

    store = Store(settings.resolved_database_url)
    store.create_schema()
    journal = Journal(store, "run", "acct")
    journal.record(Fill(1, 1, "s", "SPY", Side.BUY, 2.0, 10.0, 0.01, 100.0))
    assert account_fills(store, "acct") == []  # recorded, not committed: not in the table
    journal.commit()
    (row,) = account_fills(store, "acct")
    assert (row.fill_id, row.quantity, row.run_id) == (1, 2.0, "run")
    store.dispose()


async def test_an_account_held_by_another_running_process_is_refused(
    settings: Settings,
) -> None:
    store = Store(settings.resolved_database_url)
    store.create_schema()
    account = accounts.take(store, settings.account, settings.starting_cash)
    other = subprocess.Popen(["sleep", "30"])
    try:
        accounts.hold(store, account.id, f"{accounts.this_process().rsplit(':', 1)[0]}:{other.pid}")
        deck = Deck(settings)
        with pytest.raises(accounts.AccountInUse, match=f"{account.id} is being traded by"):
            await deck.start()
        await deck.stop()
        with pytest.raises(accounts.AccountInUse):
            accounts.reset_account(store, settings.account, "ada", "try", 1.0)
    finally:
        other.kill()
        other.wait()
    # its process gone, the hold is stale: the Deck takes the account over
    deck = Deck(settings)
    await deck.start()
    try:
        assert deck.account is not None and deck.account.account.id == account.id
    finally:
        await deck.stop()
    assert accounts.get_account(store, account.id).holder is None  # type: ignore[union-attr]
    store.dispose()


async def test_a_reset_opens_a_new_account_and_keeps_the_old_one(settings: Settings) -> None:
    deck = Deck(settings)
    await deck.start()
    await trade_until_fills(deck, 1)
    await deck.kill(SYSTEM, "before the reset")
    await deck.stop()
    old_id = deck.account.account.id  # type: ignore[union-attr]
    old, new = accounts.reset_account(deck.store, settings.account, "ada", "new quarter",
                                      settings.starting_cash)  # fmt: skip
    assert old is not None and old.id == old_id and old.archive_reason == "new quarter"

    fresh = Deck(settings)
    await fresh.start()
    try:
        assert fresh.account is not None and fresh.account.account.id == new.id
        assert fresh.recovered_at is None  # nothing to recover: a new account
        assert fresh.engine.execution.risk.state.value == "active"
        assert fresh.engine.portfolio.fills == 0
    finally:
        await fresh.stop()
    assert len(account_fills(fresh.store, old_id)) == deck.engine.portfolio.fills  # readable


def test_an_account_is_rebuilt_and_reset_the_same_on_both_backends(database_url: str) -> None:
    from core.bus import Bus
    from core.events import Side, Tick
    from core.research.strategies import get_strategy
    from core.trading.account import load_account
    from core.trading.engine import LiveEngine, StrategySpec
    from core.trading.orders import OrderRequest

    store = Store(database_url)
    store.create_schema()
    account = accounts.take(store, "paper", 10_000.0)
    spec = StrategySpec(get_strategy("sma_cross"), {"fast": 2, "slow": 5}, ("SPY",), 10_000.0)
    engine = LiveEngine(Bus(), [spec], run_id="one", journal=Journal(store, "one", account.id),
                        snapshot_every=2)  # fmt: skip
    for i, side in enumerate((Side.BUY, Side.SELL, Side.BUY)):
        tick = Tick("SPY", 100.0 + i, 50.0 + i, 1.0)
        engine.execution.execute_now(OrderRequest("sma_cross", "SPY", side, 4.0), tick)
        engine.checkpoint()
    loaded = load_account(store, account)
    assert loaded.state.snapshot is not None and len(loaded.state.fills) == 1
    assert loaded.state.portfolio.cash == engine.portfolio.cash
    assert loaded.state.portfolio.position("SPY").quantity == 4.0
    assert [f.fill_id for f in account_fills(store, account.id)] == [1, 2, 3]
    accounts.hold(store, account.id, None)
    old, new = accounts.reset_account(store, "paper", "ada", "both backends", 5_000.0)
    assert old is not None and old.id == account.id and new.starting_cash == 5_000.0
    assert accounts.find_active(store, "paper").id == new.id  # type: ignore[union-attr]
    assert [a.id for a in accounts.accounts(store)] == [new.id, account.id]
    store.dispose()
