"""Property: whatever orders, fills, cancels, risk events, strategy switches and crashes
come, the account rebuilt from the journal is exactly the account as it stood at its last
commit, fill ids never repeat, cash equals the starting cash plus the fills, and positions
equal the fills' sum. Snapshots are taken every few fills, so recovery is tested both
from the first entry and from a snapshot."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.bus import Bus
from core.events import RiskState, Side, Tick
from core.research.strategies import get_strategy
from core.store import Store, accounts
from core.trading.account import account_fills, load_account
from core.trading.engine import LiveEngine, StrategySpec
from core.trading.journal import Journal
from core.trading.orders import OrderRequest, OrderType

SYMBOL, STRATEGY, CASH = "SPY", "sma_cross", 100_000.0
SPEC = StrategySpec(get_strategy(STRATEGY), {"fast": 2, "slow": 5}, (SYMBOL,), CASH)
_names = itertools.count()

sides = st.sampled_from([Side.BUY, Side.SELL])
quantities = st.integers(1, 30).map(float)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.floats(-4.0, 4.0, allow_nan=False)),
        st.tuples(st.just("market"), st.sampled_from([STRATEGY, "desk"]), sides, quantities),
        st.tuples(st.just("limit"), sides, quantities, st.floats(-3.0, 3.0, allow_nan=False)),
        st.tuples(st.just("cancel"), st.integers(0, 5)),
        st.tuples(st.sampled_from(["kill", "reset", "stop", "start", "commit", "crash"])),
    ),
    min_size=1,
    max_size=60,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('journal') / 'quarterdeck.db'}")
    store.create_schema()
    yield store
    store.dispose()


class Desk:
    """One account traded by a journaled engine that may crash and be rebuilt."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.account = accounts.take(store, f"property-{next(_names)}", CASH)
        self.runs = itertools.count()
        self.engine = self._engine()
        self.price, self.ts = 100.0, 1_000_000.0
        self.committed = state_of(self.engine)

    def _engine(self) -> LiveEngine:
        run = f"run-{next(self.runs)}"
        journal = Journal(self.store, run, self.account.id)
        return LiveEngine(Bus(), [SPEC], run_id=run, journal=journal, snapshot_every=3)

    def apply(self, operation: tuple[Any, ...]) -> None:
        engine, name = self.engine, operation[0]
        self.ts += 1.0
        if name == "tick":
            self.price = max(1.0, self.price + operation[1])
            engine.handle(Tick(SYMBOL, self.ts, self.price, 1.0))
        elif name == "market":  # at a tick the engine handles, as its strategies trade
            tick = Tick(SYMBOL, self.ts, self.price, 1.0)
            engine.handle(tick)
            strategy, side, quantity = operation[1:]
            engine.execution.execute_now(OrderRequest(strategy, SYMBOL, side, quantity), tick)
        elif name == "limit":
            request = OrderRequest(STRATEGY, SYMBOL, operation[1], operation[2], OrderType.LIMIT,
                                   limit_price=round(self.price + operation[3], 2))  # fmt: skip
            engine.execution.submit(request, self.ts)
        elif name == "cancel":
            working = engine.broker.working()
            if working:
                order = working[operation[1] % len(working)]
                engine.execution.cancel(order.order_id, "property test", self.ts)
        elif name == "commit":
            engine.checkpoint()
            self.committed = state_of(engine)
        elif name == "crash":  # what was not committed was never acknowledged: it is gone
            self.engine = self._engine()
            loaded = load_account(self.store, self.account)
            self.engine.open_account(CASH)
            self.engine.restore(loaded.state)
            assert state_of(self.engine) == self.committed
        elif asyncio.run(operator(engine, name)):  # a command that acted commits itself
            self.committed = state_of(engine)


async def operator(engine: LiveEngine, name: str) -> bool:
    """Run an operator's command; False if it changed nothing (and so committed nothing)."""
    if name == "kill":
        await engine.kill("olga", "property test")
    elif name == "reset":
        await engine.reset_risk("ada", "property test")
    elif name == "stop":
        return await engine.stop_strategy("olga", "property test", STRATEGY)
    else:
        try:
            return await engine.start_strategy("olga", "property test", STRATEGY)
        except ValueError:  # halted: nothing starts before an admin's reset
            assert engine.execution.risk.state is RiskState.HALTED
            return False
    return True


def state_of(engine: LiveEngine) -> dict[str, Any]:
    """Everything about the account a restart must bring back, exactly."""
    portfolio = engine.portfolio
    return {
        "cash": portfolio.cash, "realized": portfolio.realized_pnl,
        "commissions": portfolio.commissions, "fills": portfolio.fills,
        "peak": portfolio.peak_equity,
        "positions": {s: (p.quantity, p.avg_price, p.realized_pnl, p.last_price)
                      for s, p in portfolio.positions.items() if p.quantity or p.realized_pnl},
        "working": [(o.order_id, o.side, o.request.quantity, o.filled_quantity,
                     o.request.limit_price, o.status) for o in engine.broker.working()],
        "risk": engine.execution.risk.state, "stopped": dict(engine.stopped_by),
        "halt": engine.halt,
        "flatten": set(engine.execution.flatten_pending),
        "next_ids": (engine.execution.next_order_id, engine.broker.next_fill_id),
        "books": {key: (b.units, b.cash) for key, b in engine.books.items()},
        "ledgers": {name: (p.cash, p.fills, p.realized_pnl, p.slippage)
                    for name, p in engine.ledgers.items()},
    }  # fmt: skip


def check_journal(store: Store, account_id: str) -> None:
    fills = account_fills(store, account_id)
    ids = [f.fill_id for f in fills]
    assert ids == sorted(set(ids)), "a fill id repeats"
    cash, held = CASH, 0.0
    for f in fills:
        signed = (1 if f.side == "buy" else -1) * f.quantity
        cash -= signed * f.price + f.commission
        held += signed
    loaded = load_account(store, accounts.get_account(store, account_id))  # type: ignore[arg-type]
    assert loaded.state.portfolio.cash == cash
    assert loaded.state.portfolio.position(SYMBOL).quantity == held


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_any_history_of_trading_and_crashes_recovers_exactly(
    store: Store, history: list[tuple[Any, ...]]
) -> None:
    desk = Desk(store)
    for operation in history:
        desk.apply(operation)
    desk.apply(("crash",))
    check_journal(store, desk.account.id)


def test_the_property_holds_on_a_known_hard_history(store: Store) -> None:
    """A halt with a position and a resting order, a crash before the flatten, a crash
    after it, and a reset: recovery owes the flatten, then remembers it was done. Two
    ledgers that net to a flat account are both flattened."""
    desk = Desk(store)
    for operation in [("tick", 0.0), ("market", "desk", Side.SELL, 4.0),
                      ("market", STRATEGY, Side.BUY, 10.0), ("limit", Side.BUY, 5.0, -2.0),
                      ("commit",), ("kill",), ("crash",), ("tick", 1.0), ("commit",),
                      ("crash",), ("reset",), ("market", STRATEGY, Side.SELL, 3.0), ("commit",),
                      ("crash",)]:  # fmt: skip
        desk.apply(operation)
    engine = desk.engine
    assert engine.portfolio.position(SYMBOL).quantity == -3.0
    assert engine.broker.working() == []
    check_journal(store, desk.account.id)
    assert Path(str(store.engine.url.database)).exists()
