"""The trading journal: write-ahead record of everything the execution path does.

The engine hands each event to ``Journal.record`` as it happens and calls
``commit`` (one transaction, in a worker thread) before it publishes or
acknowledges any of them. A fill's row in the ``fills`` table is written in
that same transaction, so the table never disagrees with the journal. SQLite
in WAL mode (and PostgreSQL) keeps a committed transaction through a killed
process, so after a crash ``recover`` rebuilds exactly the acknowledged state:
portfolio, working orders, risk state and its day, the strategies an operator
stopped, a flatten the kill switch still owes, the next ids and, per symbol,
the market-data cursor and price to resume from.

A journal belongs to a run; the Deck's runs also carry the id of the account
they trade, and ``account_entries`` reads every run of an account, in order,
which is how the account continues across restarts.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlmodel import col

from core.events import Fill, StrategyChanged
from core.store import FillRow, JournalRow, Store
from core.trading.orders import SIDES, STATUSES, Order, OrderEvent, request_from
from core.trading.portfolio import Portfolio
from core.trading.risk import RiskDay, RiskEvent, RiskState
from core.trading.snapshot import Snapshot, decode_snapshot, encode_snapshot

Event = OrderEvent | Fill | RiskEvent | StrategyChanged


@dataclass(frozen=True, slots=True)
class Cursor:
    """How far one symbol's market data has been processed: its last event handled
    (``event`` is "tick" or "bar"), that event's time and, in a ``Mark``, its price."""

    symbol: str
    ts: float
    event: str
    price: float | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """Where the engine stood when it committed: each symbol's cursor, and the figures
    that prices (not fills) move: the account's peak equity and the risk governor's day.
    Recovery takes the newest mark; with it the account is exactly as it was."""

    ts: float
    cursors: tuple[Cursor, ...]
    peak_equity: float
    risk: RiskDay


Entry = Event | Cursor | Mark | Snapshot


class Journal:
    def __init__(self, store: Store, run_id: str, account_id: str | None = None) -> None:
        self._store = store
        self.run_id = run_id
        self.account_id = account_id
        self._pending: list[dict[str, Any]] = []
        self._fills: list[dict[str, Any]] = []
        self._writing = threading.Lock()  # one commit at a time, so entries keep their order

    def record(self, event: Entry) -> None:
        kind, payload = _encode(event)
        self._pending.append(
            {"run_id": self.run_id, "account_id": self.account_id, "kind": kind, "ts": event.ts,
             "payload_json": json.dumps(payload, separators=(",", ":"))}
        )  # fmt: skip
        if isinstance(event, Fill):
            self._fills.append(
                {"run_id": self.run_id, "account_id": self.account_id, **fill_columns(event)}
            )

    @property
    def pending(self) -> int:
        return len(self._pending)

    def commit(self) -> int:
        """Write everything recorded so far in one transaction (blocking: call it from a
        worker thread). Returns how many entries were written."""
        with self._writing:
            rows, self._pending = self._pending, []
            fills, self._fills = self._fills, []
            if rows:
                with self._store.engine.begin() as connection:
                    connection.execute(insert(JournalRow), rows)
                    if fills:
                        connection.execute(insert(FillRow), fills)
        return len(rows)

    def read(self) -> list[Entry]:
        """This run's entries in the order they were recorded."""
        query = select(JournalRow.kind, JournalRow.payload_json).where(
            JournalRow.run_id == self.run_id
        ).order_by(JournalRow.seq)  # fmt: skip
        with self._store.engine.connect() as connection:
            return [_decode(kind, json.loads(text)) for kind, text in connection.execute(query)]


def account_entries(store: Store, account_id: str) -> list[Entry]:
    """The entries of every run of ``account_id`` that recovery needs, in the order they
    were committed: from the newest snapshot on (all of them without one), and of the
    marks only the newest, which supersedes the others."""

    def newest(kind: str) -> Any:
        return (
            select(JournalRow.seq)
            .where(JournalRow.account_id == account_id, JournalRow.kind == kind)
            .order_by(col(JournalRow.seq).desc())
            .limit(1)
            .scalar_subquery()
        )

    # An order's "filled" and "partially_filled" events repeat what its fills say; they
    # are a third of a journal, so they are left in the database. Every payload begins
    # with its event's kind (``_encode`` writes the dataclass's fields in order).
    repeats_a_fill = (JournalRow.kind == "order") & (
        col(JournalRow.payload_json).startswith('{"kind":"filled",')
        | col(JournalRow.payload_json).startswith('{"kind":"partially_filled",')
    )
    query = (
        select(JournalRow.kind, JournalRow.payload_json)
        .where(JournalRow.account_id == account_id)
        .where(col(JournalRow.seq) >= func.coalesce(newest("snapshot"), 0))
        .where((JournalRow.kind != "mark") | (JournalRow.seq == newest("mark")))
        .where(~repeats_a_fill)
        .order_by(col(JournalRow.seq))
    )
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    decode = _JSON.raw_decode  # json.loads less its two whitespace scans: ours has none
    return [_decode(kind, decode(text)[0]) for kind, text in rows]


def recent_orders(store: Store, account_id: str, scan: int) -> list[OrderEvent]:
    """Each order's newest event among the account's newest ``scan`` order events, newest
    first: what became of its recent orders, whichever run placed them."""
    query = (
        select(JournalRow.payload_json)
        .where(JournalRow.account_id == account_id, JournalRow.kind == "order")
        .order_by(col(JournalRow.seq).desc())
        .limit(scan)
    )
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
    newest: dict[int, OrderEvent] = {}
    for (text,) in rows:
        event = _decode("order", _JSON.raw_decode(text)[0])
        assert isinstance(event, OrderEvent)
        newest.setdefault(event.order_id, event)
    return list(newest.values())


def fill_columns(fill: Fill) -> dict[str, object]:
    """A fill as the ``fills`` table's columns."""
    return {
        "fill_id": fill.fill_id, "order_id": fill.order_id, "strategy": fill.strategy,
        "symbol": fill.symbol, "side": fill.side.value, "quantity": fill.quantity,
        "price": fill.price, "commission": fill.commission, "ts": fill.ts,
        "slippage": fill.slippage, "strategy_version": fill.strategy_version,
    }  # fmt: skip


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
    stopped_by: dict[str, StrategyChanged] = field(default_factory=dict)  # who, when, why
    mark: Mark | None = None
    orders: int = 0  # orders the journal holds, of any status
    flatten: set[str] = field(default_factory=set)  # symbols the kill switch must still flatten
    halt: RiskEvent | None = None  # what halted trading (a kill or a breach), while it holds
    snapshot: Snapshot | None = None  # where recovery began (then ``fills`` came after it)

    @property
    def stopped(self) -> set[str]:
        return set(self.stopped_by)


def recover(entries: list[Entry], starting_cash: float) -> Recovered:
    state = Recovered(Portfolio(starting_cash))
    orders: dict[int, Order] = {}
    # A journal that ends with a mark says what the peak equity was; without one, the
    # peak is followed fill by fill (a standalone replay's journal has no marks).
    track_peak = not (entries and isinstance(entries[-1], Mark))
    accepted = 0
    held: dict[tuple[str, str], float] = {}  # each strategy's position in each symbol
    for entry in entries:
        if isinstance(entry, Snapshot):  # the first entry, if any
            state = _from_snapshot(entry)
            orders = {order.order_id: order for order in entry.working}
            accepted = entry.orders
            held = {(name, symbol): p.quantity for name, ledger in entry.ledgers.items()
                    for symbol, p in ledger.positions.items()}  # fmt: skip
        elif isinstance(entry, Fill):
            key = (entry.strategy, entry.symbol)
            held[key] = held.get(key, 0.0) + entry.side.sign * entry.quantity
            state.portfolio.apply_fill(entry, track_peak)
            state.fills.append(entry)
            state.next_fill_id = max(state.next_fill_id, entry.fill_id + 1)
            order = orders.get(entry.order_id)
            if order is not None:
                order.record_fill(entry.quantity, entry.price, entry.fill_id)
            # Owed a flatten, a symbol's first fill is it: the kill cancelled every order
            # and stopped every strategy, so nothing else fills before its next tick.
            state.flatten.discard(entry.symbol)
        elif isinstance(entry, OrderEvent):
            state.next_order_id = max(state.next_order_id, entry.order_id + 1)
            if entry.kind == "accepted":
                orders[entry.order_id] = Order(entry.order_id, entry.request, entry.ts)
                accepted += 1
            elif entry.kind in ("cancelled", "expired", "replaced") and entry.order_id in orders:
                order = orders[entry.order_id]
                order.request = entry.request
                order.status, order.reason = entry.status, entry.reason
        elif isinstance(entry, RiskEvent):  # a reset lifts the halt, not a flatten owed
            state.risk_state = entry.state
            state.halt = halt_after(state.halt, entry)
            if entry.kind == "kill":  # as the engine: what the account or any strategy holds
                state.flatten = {s for s, p in state.portfolio.positions.items() if p.quantity}
                state.flatten |= {symbol for (_, symbol), quantity in held.items() if quantity}
        elif isinstance(entry, StrategyChanged):
            if entry.running:
                state.stopped_by.pop(entry.strategy, None)
            else:
                state.stopped_by[entry.strategy] = entry
        elif isinstance(entry, Mark):
            state.mark = entry
            for cursor in entry.cursors:
                state.cursors[cursor.symbol] = cursor
                if cursor.price is not None:
                    state.portfolio.mark(cursor.symbol, cursor.price, cursor.ts)
            state.portfolio.peak_equity = entry.peak_equity
        else:
            state.cursors[entry.symbol] = entry
    state.working = [o for o in orders.values() if o.status.working]
    state.orders = accepted
    return state


def _from_snapshot(snapshot: Snapshot) -> Recovered:
    return Recovered(
        snapshot.portfolio, risk_state=snapshot.risk_state,
        next_order_id=snapshot.next_order_id, next_fill_id=snapshot.next_fill_id,
        stopped_by={change.strategy: change for change in snapshot.stopped},
        flatten=set(snapshot.flatten), halt=snapshot.halt, snapshot=snapshot,
    )  # fmt: skip


def halt_after(halt: RiskEvent | None, event: RiskEvent) -> RiskEvent | None:
    """What holds trading halted after ``event``: the newest kill or move to HALTED, until
    a reset."""
    if event.kind == "reset":
        return None
    if event.kind == "kill" or (event.kind == "transition" and event.state is RiskState.HALTED):
        return event
    return halt


def _encode(event: Entry) -> tuple[str, dict[str, Any]]:
    if isinstance(event, OrderEvent):
        return "order", asdict(event)
    if isinstance(event, Fill):
        return "fill", asdict(event)
    if isinstance(event, RiskEvent):
        return "risk", asdict(event)
    if isinstance(event, StrategyChanged):
        return "strategy", asdict(event)
    if isinstance(event, Mark):
        return "mark", asdict(event)
    if isinstance(event, Snapshot):
        return "snapshot", encode_snapshot(event)
    return "cursor", asdict(event)


def _decode(kind: str, payload: dict[str, Any]) -> Entry:
    if kind == "order":
        return OrderEvent(
            payload["kind"], payload["order_id"], request_from(payload["request"]),
            payload["ts"], STATUSES[payload["status"]], payload["filled_quantity"],
            payload["reason"],
        )  # fmt: skip
    if kind == "fill":
        return Fill(**{**payload, "side": SIDES[payload["side"]]})
    if kind == "risk":
        return RiskEvent(**{**payload, "previous": RiskState(payload["previous"]),
                            "state": RiskState(payload["state"])})  # fmt: skip
    if kind == "strategy":
        return StrategyChanged(**payload)
    if kind == "cursor":
        return Cursor(**payload)
    if kind == "snapshot":
        return decode_snapshot(payload)
    if kind == "mark":
        cursors = tuple(Cursor(**c) for c in payload["cursors"])
        return Mark(payload["ts"], cursors, payload["peak_equity"], RiskDay(**payload["risk"]))
    raise ValueError(f"journal: unknown entry kind {kind!r}")


_JSON = json.JSONDecoder()
