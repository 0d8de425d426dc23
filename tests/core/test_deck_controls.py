"""The operator's trading controls on the Deck: stop and start a strategy, cancel an order.

Each is pinned by its effect on the engine, by its journal entry (so a restart
keeps it) and by its audit entry (who and why). The engine is driven by hand
with simulated bars, so what trades is deterministic.
"""

import asyncio
import json
import sqlite3

import numpy as np
import pytest

from core.access import Principal, Role
from core.config import LiveStrategy, Settings
from core.deck import Deck
from core.events import Bar, Side, StrategyChanged, Tick
from core.market.history import simulated_bars
from core.trading.journal import recover
from core.trading.orders import OrderRequest, OrderStatus, OrderType

FAST = {"fast": 3, "slow": 8}
ALICE, BOB = Principal("alice", Role.OPERATOR), Principal("bob", Role.OPERATOR)


async def deck_with_two_strategies(settings: Settings) -> Deck:
    two = settings.model_copy(
        update={
            "sim_symbols": ["BTCUSD"],
            "strategies": [
                LiveStrategy(id="sma_cross", params=FAST),
                LiveStrategy(id="ema_cross", params=FAST),
            ],
        }
    )
    deck = Deck(two)
    await asyncio.to_thread(deck.store.create_schema)
    return deck


def drive(deck: Deck, bars: dict[str, np.ndarray], start: int, stop: int) -> None:
    """Bars ``start:stop`` as the feed gives them: the opening tick, then the bar."""
    for i in range(start, stop):
        o, h, lo, c, v = (float(bars[k][i]) for k in ("open", "high", "low", "close", "volume"))
        ts = float(bars["ts"][i])
        deck.engine.handle(Tick("BTCUSD", ts, o, 1.0))
        deck.engine.handle(Bar("BTCUSD", ts, o, h, lo, c, v))


def fills_of(deck: Deck, strategy: str) -> int:
    return deck.engine.ledgers[strategy].fills


def audit(deck: Deck) -> list[tuple[str, str, str, dict]]:
    rows = sqlite3.connect(deck.settings.data_dir / "quarterdeck.db").execute(
        "SELECT actor, action, subject, detail_json FROM audit ORDER BY seq"
    )
    return [(actor, action, subject, json.loads(detail)) for actor, action, subject, detail in rows]


async def test_a_stopped_strategy_places_no_orders_and_keeps_its_position(
    settings: Settings,
) -> None:
    deck = await deck_with_two_strategies(settings)
    bars = simulated_bars("BTCUSD", 7, 600, 3600, 60)
    drive(deck, bars, 0, 200)
    assert fills_of(deck, "sma_cross") > 0 and fills_of(deck, "ema_cross") > 0
    held = deck.engine.books["sma_cross", "BTCUSD"].units
    sma_fills, ema_fills = fills_of(deck, "sma_cross"), fills_of(deck, "ema_cross")

    assert await deck.stop_strategy(ALICE, "misbehaving", "sma_cross") is True
    assert await deck.stop_strategy(ALICE, "again", "sma_cross") is False  # already stopped
    drive(deck, bars, 200, 400)
    assert fills_of(deck, "sma_cross") == sma_fills  # no new orders
    assert deck.engine.books["sma_cross", "BTCUSD"].units == held  # its position stays
    assert fills_of(deck, "ema_cross") > ema_fills  # the other strategy trades on

    assert await deck.start_strategy(BOB, "fixed", "sma_cross") is True
    drive(deck, bars, 400, 600)
    assert fills_of(deck, "sma_cross") > sma_fills

    assert [(a, b, c, d["why"]) for a, b, c, d in audit(deck)] == [
        ("alice", "strategy.stop", "sma_cross", "misbehaving"),
        ("bob", "strategy.start", "sma_cross", "fixed"),
    ]
    deck.store.dispose()


async def test_stopping_is_journaled_so_a_restart_keeps_the_strategy_stopped(
    settings: Settings,
) -> None:
    deck = await deck_with_two_strategies(settings)
    changes = deck.bus.subscribe(StrategyChanged)
    await deck.stop_strategy(ALICE, "drill", "ema_cross")
    published = changes.drain()
    assert [(c.strategy, c.running, c.who, c.why) for c in published] == [
        ("ema_cross", False, "alice", "drill")
    ]
    journal = deck.engine._journal
    assert journal is not None
    recovered = recover(journal.read(), deck.engine.portfolio.starting_cash)
    assert recovered.stopped == {"ema_cross"}
    await deck.start_strategy(ALICE, "drill over", "ema_cross")
    assert recover(journal.read(), 1.0).stopped == set()
    deck.store.dispose()


async def test_an_unknown_strategy_or_a_missing_reason_is_refused(settings: Settings) -> None:
    deck = await deck_with_two_strategies(settings)
    with pytest.raises(ValueError, match="no live strategy 'nope'"):
        await deck.stop_strategy(ALICE, "why", "nope")
    with pytest.raises(ValueError, match="who and why"):
        await deck.stop_strategy(ALICE, " ", "sma_cross")
    assert deck.engine.stopped == set()
    deck.store.dispose()


def rest_limit_order(deck: Deck, strategy: str) -> int:
    """A buy below the market (within the 20% band): it rests until cancelled."""
    deck.engine.execution.last_prices["BTCUSD"] = 100.0
    request = OrderRequest(strategy, "BTCUSD", Side.BUY, 1.0, OrderType.LIMIT, limit_price=90.0)
    order = deck.engine.execution.submit(request, 0.0)
    assert order.status is OrderStatus.ACCEPTED
    return order.order_id


async def test_cancel_order_cancels_a_working_order_once_and_audits_who_and_why(
    settings: Settings,
) -> None:
    deck = await deck_with_two_strategies(settings)
    order_id = rest_limit_order(deck, "manual")
    assert [o.order_id for o in deck.engine.broker.working()] == [order_id]
    assert await deck.cancel_order(BOB, "fat finger", order_id) is True
    assert deck.engine.broker.working() == []
    assert await deck.cancel_order(BOB, "again", order_id) is False  # not working any more
    assert audit(deck) == [
        ("bob", "order.cancel", f"order {order_id}",
         {"why": "fat finger", "run_id": deck.run_id, "strategy": "manual", "symbol": "BTCUSD",
          "source": "local"}),
    ]  # fmt: skip
    deck.store.dispose()


async def test_stopping_a_strategy_cancels_its_working_orders_only(settings: Settings) -> None:
    deck = await deck_with_two_strategies(settings)
    own = rest_limit_order(deck, "sma_cross")
    other = rest_limit_order(deck, "ema_cross")
    await deck.stop_strategy(ALICE, "drill", "sma_cross")
    assert [o.order_id for o in deck.engine.broker.working()] == [other]
    assert own != other
    deck.store.dispose()
