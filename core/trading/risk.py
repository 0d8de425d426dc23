"""The risk governor: pre-trade limits, loss limits, and the account's trading state.

States only escalate on their own: ACTIVE -> REDUCING (orders must reduce
exposure) -> HALTED (no orders). A daily loss beyond its limit moves to
REDUCING, a drawdown beyond its limit to HALTED, and the kill switch to HALTED
at once (the engine then cancels every order and flattens every position).
Only an operator's ``reset``, naming who and why, returns to ACTIVE. Every
breach, transition, kill and reset is a ``RiskEvent`` for the audit trail.
"""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.events import LimitUsage, RiskSnapshot, RiskState, Side
from core.trading.orders import OrderRequest

GOVERNOR = "risk governor"
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_order_notional: float = math.inf
    max_position_notional: float = math.inf  # per symbol, absolute, after the order
    max_open_orders: int = 1_000
    max_orders_per_second: int = 1_000  # accepted orders in any one-second window
    daily_loss_limit: float = math.inf  # money lost since the UTC day's first equity
    max_drawdown: float = 1.0  # fraction below the peak equity

    def __post_init__(self) -> None:
        for name in ("max_order_notional", "max_position_notional", "daily_loss_limit"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.max_open_orders < 1 or self.max_orders_per_second < 1:
            raise ValueError("max_open_orders and max_orders_per_second must be at least 1")
        if not 0 < self.max_drawdown <= 1:
            raise ValueError("max_drawdown must be in (0, 1]")


#: Each limit's name in the governor's usage (the API's and the gauges'), by its
#: ``RiskLimits`` field (the setting ``QD_RISK_<FIELD>``).
LIMIT_NAMES = {
    "max_order_notional": "order notional", "max_position_notional": "position notional",
    "max_open_orders": "open orders", "max_orders_per_second": "orders per second",
    "daily_loss_limit": "daily loss", "max_drawdown": "drawdown",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RiskEvent:
    ts: float
    kind: str  # breach, transition, kill or reset
    previous: RiskState
    state: RiskState
    who: str
    why: str
    #: When it happened by the wall clock (``ts`` is market time, which a simulator or
    #: a replay runs ahead of or behind); not part of the event's identity.
    at: float = field(default_factory=time.time, compare=False)


@dataclass(frozen=True, slots=True)
class RiskDay:
    """What the governor has learnt from prices rather than from fills: the UTC day it
    counts, the equity that day began with, the peak, and the day's largest order."""

    day: int
    day_start_equity: float
    peak_equity: float
    largest_order_today: float


class RiskGovernor:
    def __init__(self, limits: RiskLimits, starting_equity: float, ts: float = 0.0) -> None:
        self.limits = limits
        self.state = RiskState.ACTIVE
        self.peak_equity = starting_equity
        self.day = math.floor(ts / SECONDS_PER_DAY)
        self.day_start_equity = starting_equity
        self.equity = starting_equity
        self.largest_order_today = 0.0  # notional of the day's largest accepted order
        self._accepted: collections.deque[float] = collections.deque()

    # --- pre-trade -----------------------------------------------------------------

    def check(
        self, request: OrderRequest, price: float, position: float, open_orders: int, ts: float
    ) -> str | None:
        """Why ``request`` must be refused, or None; an accepted order counts toward
        the rate limit. ``position`` is the symbol's signed quantity now."""
        limits = self.limits
        signed = request.side.sign * request.quantity
        reduces = reduces_exposure(request.side, request.quantity, position)
        if self.state is RiskState.HALTED:
            return "risk: trading is halted"
        if self.state is RiskState.REDUCING and not reduces:
            return "risk: reducing only, and this order adds exposure"
        notional = request.quantity * price
        if notional > limits.max_order_notional:
            return f"risk: order notional {notional:.2f} exceeds {limits.max_order_notional:.2f}"
        after = abs(position + signed) * price
        if not reduces and after > limits.max_position_notional:
            return (
                f"risk: position notional would be {after:.2f}, "
                f"over the {limits.max_position_notional:.2f} limit for {request.symbol}"
            )
        if open_orders >= limits.max_open_orders:
            return f"risk: {open_orders} open orders, the most allowed"
        if self._orders_in_last_second(ts) >= limits.max_orders_per_second:
            return f"risk: more than {limits.max_orders_per_second} orders in one second"
        self._accepted.append(ts)
        self.largest_order_today = max(self.largest_order_today, notional)
        return None

    def _orders_in_last_second(self, ts: float) -> int:
        while self._accepted and self._accepted[0] <= ts - 1.0:
            self._accepted.popleft()
        return len(self._accepted)

    # --- account watch --------------------------------------------------------------

    def observe(self, equity: float, ts: float) -> list[RiskEvent]:
        """Track the account's equity; returns the breaches and transitions it causes."""
        day = math.floor(ts / SECONDS_PER_DAY)
        if day > self.day:
            self.day, self.day_start_equity = day, equity
            self.largest_order_today = 0.0
        self.equity = equity
        self.peak_equity = max(self.peak_equity, equity)
        events: list[RiskEvent] = []
        loss = self.day_start_equity - equity
        if _reached(loss, self.limits.daily_loss_limit) and self.state is RiskState.ACTIVE:
            why = f"daily loss {loss:.2f} reached the {self.limits.daily_loss_limit:.2f} limit"
            events += self._escalate(RiskState.REDUCING, ts, why)
        drawdown = self.drawdown
        if _reached(drawdown, self.limits.max_drawdown) and self.state is not RiskState.HALTED:
            why = f"drawdown {drawdown:.2%} reached the {self.limits.max_drawdown:.2%} limit"
            events += self._escalate(RiskState.HALTED, ts, why)
        return events

    @property
    def drawdown(self) -> float:
        return 0.0 if self.peak_equity <= 0 else max(0.0, 1.0 - self.equity / self.peak_equity)

    def usage(
        self, exposures: Mapping[str, float], open_orders: int, ts: float
    ) -> tuple[LimitUsage, ...]:
        """The distance to every limit. ``exposures`` is each symbol's absolute
        position notional; the per-order limit is measured by the day's largest order."""
        limits = self.limits
        symbol, exposure = max(exposures.items(), key=lambda item: item[1], default=("", 0.0))
        loss = max(0.0, self.day_start_equity - self.equity)
        return (
            LimitUsage("order notional", self.largest_order_today, limits.max_order_notional,
                       "largest today"),
            LimitUsage("position notional", exposure, limits.max_position_notional, symbol),
            LimitUsage("open orders", open_orders, limits.max_open_orders),
            LimitUsage("orders per second", self._orders_in_last_second(ts),
                       limits.max_orders_per_second),
            LimitUsage("daily loss", loss, limits.daily_loss_limit),
            LimitUsage("drawdown", self.drawdown, limits.max_drawdown),
        )  # fmt: skip

    def snapshot(self, exposures: Mapping[str, float], open_orders: int, ts: float) -> RiskSnapshot:
        return RiskSnapshot(ts, self.state, self.usage(exposures, open_orders, ts))

    # --- operators ------------------------------------------------------------------

    def restore(self, state: RiskState, day: RiskDay | None = None) -> None:
        """Take up the state (and day) a journal recorded; its events are already in it."""
        self.state = state
        if day is not None:
            self.day, self.day_start_equity = day.day, day.day_start_equity
            self.peak_equity, self.largest_order_today = day.peak_equity, day.largest_order_today

    def risk_day(self) -> RiskDay:
        return RiskDay(self.day, self.day_start_equity, self.peak_equity,
                       self.largest_order_today)  # fmt: skip

    def kill(self, who: str, why: str, ts: float) -> RiskEvent:
        """The kill switch: halt now. The engine cancels orders and flattens."""
        require_who_and_why(who, why)
        event = RiskEvent(ts, "kill", self.state, RiskState.HALTED, who, why)
        self.state = RiskState.HALTED
        return event

    def reset(self, who: str, why: str, ts: float) -> RiskEvent:
        """Back to ACTIVE, on an operator's word; the peak and the day restart here."""
        require_who_and_why(who, why)
        event = RiskEvent(ts, "reset", self.state, RiskState.ACTIVE, who, why)
        self.state = RiskState.ACTIVE
        self.peak_equity = self.day_start_equity = self.equity
        return event

    def _escalate(self, state: RiskState, ts: float, why: str) -> list[RiskEvent]:
        previous, self.state = self.state, state
        return [
            RiskEvent(ts, "breach", previous, previous, GOVERNOR, why),
            RiskEvent(ts, "transition", previous, state, GOVERNOR, why),
        ]


def _reached(value: float, limit: float) -> bool:
    """``value >= limit``, forgiving the last bits of rounding (10,800 is 10% below 12,000)."""
    return value >= limit * (1.0 - 1e-12)


def require_who_and_why(who: str, why: str) -> None:
    if not who.strip() or not why.strip():
        raise ValueError("who and why are both required")


def reduces_exposure(side: Side, quantity: float, position: float) -> bool:
    """True when the order only shrinks the position toward flat."""
    signed = side.sign * quantity
    return position != 0 and (signed > 0) != (position > 0) and abs(signed) <= abs(position)
