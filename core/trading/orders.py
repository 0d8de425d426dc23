"""Orders: what a strategy or an operator asks for, and what became of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.events import Side


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    GTC = "gtc"  # good till cancelled
    IOC = "ioc"  # immediate or cancel: the first chance to trade, then the rest is cancelled
    DAY = "day"  # expires at the end of the UTC day it was accepted on


class OrderStatus(StrEnum):
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def working(self) -> bool:
        return self in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order as submitted. Prices: ``limit_price`` for LIMIT and STOP_LIMIT,
    ``stop_price`` for STOP and STOP_LIMIT."""

    strategy: str
    symbol: str
    side: Side
    quantity: float
    type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    tif: TimeInForce = TimeInForce.GTC


@dataclass(slots=True)
class Order:
    """An accepted (or rejected) order and its progress."""

    order_id: int
    request: OrderRequest
    ts: float  # when it was accepted
    status: OrderStatus = OrderStatus.ACCEPTED
    filled_quantity: float = 0.0
    average_price: float = 0.0
    triggered: bool = False  # a stop order whose stop price has been reached
    reason: str = ""  # why it was rejected, cancelled or expired
    fill_ids: list[int] = field(default_factory=list)

    @property
    def remaining(self) -> float:
        return self.request.quantity - self.filled_quantity

    @property
    def symbol(self) -> str:
        return self.request.symbol

    @property
    def side(self) -> Side:
        return self.request.side

    def record_fill(self, quantity: float, price: float, fill_id: int) -> None:
        total = self.filled_quantity + quantity
        self.average_price = (self.average_price * self.filled_quantity + price * quantity) / total
        self.filled_quantity = total
        self.fill_ids.append(fill_id)
        done = self.remaining <= 1e-12 * max(1.0, self.request.quantity)
        self.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED


@dataclass(frozen=True, slots=True)
class OrderEvent:
    """An order changed: ``kind`` is accepted, rejected, cancelled, expired, replaced or
    filled/partially_filled (with the fill alongside, as a ``Fill`` event)."""

    kind: str
    order_id: int
    request: OrderRequest
    ts: float
    status: OrderStatus
    filled_quantity: float
    reason: str = ""


def request_from(payload: dict[str, Any]) -> OrderRequest:
    """An order request from its JSON form (``dataclasses.asdict``'s), as the journal and
    its snapshots keep it. Enums by dictionary: calling an enum class per value was a
    third of a recovery's time."""
    return OrderRequest(
        payload["strategy"], payload["symbol"], SIDES[payload["side"]], payload["quantity"],
        _TYPES[payload["type"]], payload["limit_price"], payload["stop_price"],
        _TIFS[payload["tif"]],
    )  # fmt: skip


SIDES = {member.value: member for member in Side}
STATUSES = {member.value: member for member in OrderStatus}
_TYPES = {member.value: member for member in OrderType}
_TIFS = {member.value: member for member in TimeInForce}
