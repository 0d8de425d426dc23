"""Live market data: websocket venues and file replay, behind one quality gate.

``WebSocketFeed`` and ``FileReplayFeed`` have the surface of ``SimulatorFeed``
(``name``, ``state``, ``start()``, ``await stop()``, ``status()``) and publish
``core.events.Tick`` and ``Bar`` on the bus; problems are ``FeedAlert`` events.
"""

from core.events import AlertKind, FeedAlert
from core.market.feeds.backoff import Backoff
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
from core.market.feeds.replay import FileReplayFeed
from core.market.feeds.websocket_feed import Source, WebSocketFeed

__all__ = [
    "Adapter",
    "AlertKind",
    "Backoff",
    "BinanceAdapter",
    "CoinbaseAdapter",
    "FeedAlert",
    "FeedMessageError",
    "FileReplayFeed",
    "GenericJsonAdapter",
    "LatencyMonitor",
    "Parsed",
    "QualityFilter",
    "QualitySettings",
    "Source",
    "VenueError",
    "WebSocketFeed",
]
