"""The trading journal: write-ahead record of everything the execution path does.

The engine hands each event to ``Journal.record`` as it happens and calls
``commit`` (one transaction, in a worker thread) before it publishes or
acknowledges any of them. SQLite in WAL mode keeps a committed transaction
through a killed process, so after a crash ``recover`` rebuilds exactly the
acknowledged state: portfolio, working orders, risk state, the strategies an
operator stopped, the next ids and, per symbol, the market-data cursor to resume from.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import insert, select

from core.events import Fill, Side, StrategyChanged
from core.store import JournalRow, Store
from core.trading.orders import Order, OrderEvent, OrderRequest, OrderStatus, OrderType, TimeInForce
from core.trading.portfolio import Portfolio
from core.trading.risk import RiskEvent, RiskState

Event = OrderEvent | Fill | RiskEvent | StrategyChanged


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far one symbol's market data has been processed: its last event handled
    (``event`` is "tick" or "bar") and that event's time."""

    symbol: str
    ts: float
    event: str


class Journal:
    def __init__(self, store: Store, run_id: str) -> None:
        self._store = store
        self.run_id = run_id
        self._pending: list[dict[str, Any]] = []
        self._writing = threading.Lock()  # one commit at a time, so entries keep their order

    def record(self, event: Event | Cursor) -> None:
        kind, payload = _encode(event)
        self._pending.append(
            {"run_id": self.run_id, "kind": kind, "ts": event.ts,
             "payload_json": json.dumps(payload, separators=(",", ":"))}
        )  # fmt: skip

    @property
    def pending(self) -> int:
        return len(self._pending)

    def commit(self) -> int:
        """Write everything recorded so far in one transaction (blocking: call it from a
        worker thread). Returns how many entries were written."""
        with self._writing:
            rows, self._pending = self._pending, []
            if rows:
                with self._store.engine.begin() as connection:
                    connection.execute(insert(JournalRow), rows)
        return len(rows)

    def read(self) -> list[Event | Cursor]:
        """This run's entries in the order they were recorded."""
        query = select(JournalRow.kind, JournalRow.payload_json).where(
            JournalRow.run_id == self.run_id
        ).order_by(JournalRow.seq)  # fmt: skip
        with self._store.engine.connect() as connection:
            return [_decode(kind, json.loads(text)) for kind, text in connection.execute(query)]


@dataclass
class Recovered:
    """The state the journal implies."""

    portfolio: Portfolio
    working: list[Order] = field(default_factory=list)
    risk_state: RiskState = RiskState.ACTIVE
    next_order_id: int = 1
    next_fill_id: int = 1
    cursors: dict[str, Cursor] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    stopped: set[str] = field(default_factory=set)


def recover(entries: list[Event | Cursor], starting_cash: float) -> Recovered:
    state = Recovered(Portfolio(starting_cash))
    orders: dict[int, Order] = {}
    for entry in entries:
        if isinstance(entry, Fill):
            state.portfolio.apply_fill(entry)
            state.fills.append(entry)
            state.next_fill_id = max(state.next_fill_id, entry.fill_id + 1)
            order = orders.get(entry.order_id)
            if order is not None:
                order.record_fill(entry.quantity, entry.price, entry.fill_id)
        elif isinstance(entry, OrderEvent):
            state.next_order_id = max(state.next_order_id, entry.order_id + 1)
            if entry.kind == "accepted":
                orders[entry.order_id] = Order(entry.order_id, entry.request, entry.ts)
            elif entry.kind in ("cancelled", "expired", "replaced") and entry.order_id in orders:
                order = orders[entry.order_id]
                order.request = entry.request
                order.status, order.reason = entry.status, entry.reason
        elif isinstance(entry, RiskEvent):
            state.risk_state = entry.state
        elif isinstance(entry, StrategyChanged):
            if entry.running:
                state.stopped.discard(entry.strategy)
            else:
                state.stopped.add(entry.strategy)
        else:
            state.cursors[entry.symbol] = entry
    state.working = [o for o in orders.values() if o.status.working]
    return state


def _encode(event: Event | Cursor) -> tuple[str, dict[str, Any]]:
    if isinstance(event, OrderEvent):
        payload = asdict(event)
        payload["request"] = asdict(event.request)
        return "order", payload
    if isinstance(event, Fill):
        return "fill", asdict(event)
    if isinstance(event, RiskEvent):
        return "risk", asdict(event)
    if isinstance(event, StrategyChanged):
        return "strategy", asdict(event)
    return "cursor", asdict(event)


def _decode(kind: str, payload: dict[str, Any]) -> Event | Cursor:
    if kind == "order":
        r = payload["request"]
        request = OrderRequest(
            r["strategy"], r["symbol"], Side(r["side"]), r["quantity"], OrderType(r["type"]),
            r["limit_price"], r["stop_price"], TimeInForce(r["tif"]),
        )  # fmt: skip
        return OrderEvent(
            payload["kind"], payload["order_id"], request, payload["ts"],
            OrderStatus(payload["status"]), payload["filled_quantity"], payload["reason"],
        )  # fmt: skip
    if kind == "fill":
        return Fill(**{**payload, "side": Side(payload["side"])})
    if kind == "risk":
        return RiskEvent(**{**payload, "previous": RiskState(payload["previous"]),
                            "state": RiskState(payload["state"])})  # fmt: skip
    if kind == "strategy":
        return StrategyChanged(**payload)
    if kind == "cursor":
        return Cursor(**payload)
    raise ValueError(f"journal: unknown entry kind {kind!r}")
