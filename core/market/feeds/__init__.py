"""Live market data from websocket venues, behind one quality gate.

``WebSocketFeed`` has the surface of ``SimulatorFeed``
(``name``, ``state``, ``start()``, ``await stop()``, ``status()``) and publish
``core.events.Tick`` and ``Bar`` on the bus; problems are ``FeedAlert`` events.
"""

from core.market.feeds.backoff import Backoff
from core.market.feeds.events import AlertKind, FeedAlert
from core.market.feeds.latency import LatencyMonitor
from core.market.feeds.messages import (
    Adapter,
    BinanceAdapter,
    CoinbaseAdapter,
    FeedMessageError,
    GenericJsonAdapter,
    Parsed,
    VenueError,
)
from core.market.feeds.quality import QualityFilter, QualitySettings
from core.market.feeds.websocket_feed import Source, WebSocketFeed

__all__ = [
    "Adapter",
    "AlertKind",
    "Backoff",
    "BinanceAdapter",
    "CoinbaseAdapter",
    "FeedAlert",
    "FeedMessageError",
    "GenericJsonAdapter",
    "LatencyMonitor",
    "Parsed",
    "QualityFilter",
    "QualitySettings",
    "Source",
    "VenueError",
    "WebSocketFeed",
]
