"""Messages the live feeds publish on the bus besides Tick and Bar."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    """Why a feed raised an alert; the data-quality kinds double as drop reasons."""

    STALE = "stale"
    SPIKE = "spike"
    OUT_OF_ORDER = "out_of_order"
    DUPLICATE = "duplicate"
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_SIZE = "negative_size"
    CROSSED_BAR = "crossed_bar"
    UNPARSEABLE = "unparseable"
    VENUE_ERROR = "venue_error"
    LATENCY = "latency"
    FAILOVER = "failover"


@dataclass(frozen=True, slots=True)
class FeedAlert:
    """Something an operator should know about a feed's data or connection.

    Conditions that last (``STALE``, ``LATENCY``) are raised once when they
    begin and published again with ``active=False`` when they end; every
    other kind reports one occurrence. ``ts`` is the wall-clock time of the
    alert in epoch seconds.
    """

    feed: str
    kind: AlertKind
    message: str
    ts: float
    symbol: str | None = None
    active: bool = True
