"""Adapters from venues' documented public websocket messages to the bus's Tick and Bar.

An adapter turns one text frame into zero or more ``Parsed`` events. Frames
that are not market data (subscription replies, heartbeats, event types we
did not ask for) give an empty list; a frame that breaks its documented
format raises ``FeedMessageError`` naming the message and the field; an
error the venue reports in-band raises ``VenueError``. No input, however
malformed, raises anything else.

Symbols keep the venue's spelling and are upper-cased: Binance ``BTCUSDT``
(its stream names use the lower-case form), Coinbase ``BTC-USD``. The generic
format's symbols are used exactly as the source sends them.

Formats:

- Binance spot ``<symbol>@trade`` and ``<symbol>@kline_<interval>`` streams,
  raw or wrapped as a combined stream ``{"stream": ..., "data": ...}``. A
  trade is a Tick at its trade time ``T``; a kline becomes a Bar (``ts`` =
  its open time) only once closed (``"x": true``). Latency is measured from
  the event time ``E``.
- Coinbase Exchange ``ticker``, ``match`` and ``last_match``: a Tick at
  ``time``. A ticker repeats the match it reports (same ``trade_id``), and
  ``last_match`` on (re)subscribing repeats the newest match, so each trade
  is published once: a message whose ``trade_id`` is the last one this
  adapter turned into a Tick for that product is skipped.
- Generic JSON: a tick ``{"symbol", "ts", "price", "size"}`` or a bar
  ``{"symbol", "ts", "open", "high", "low", "close", "volume"}``, times in
  epoch seconds, values JSON numbers or numeric strings. Any other object with
  a ``"type"`` is a control message (``{"type": "error", "message": ...}`` is
  a venue error). Its subscribe frame is ``{"type": "subscribe", "symbols":
  [...]}``.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from core.events import Bar, Tick

_CLIP = 80  # characters of a bad value quoted in an error


@dataclass(frozen=True, slots=True)
class Parsed:
    """One market event and what the quality filter and latency tracking need besides."""

    event: Tick | Bar
    sent_at: float | None  # the venue's event time (epoch seconds) latency is measured from
    seq: int | None = None  # the venue's per-symbol trade id, where it has one


class FeedMessageError(ValueError):
    """A message that breaks its documented format; the text names the message and field."""


class VenueError(Exception):
    """An error the venue reported in-band (Coinbase ``error``, Binance ``code``/``msg``)."""


class Adapter(Protocol):
    """A venue's message format: how to subscribe and how to read what comes back."""

    venue: str

    def normalise(self, symbol: str) -> str:
        """The symbol as this venue spells it in its messages."""
        ...

    def subscribe_frames(self, symbols: Sequence[str]) -> list[str]:
        """The frames to send on every (re)connection."""
        ...

    def parse(self, raw: str | bytes) -> list[Parsed]:
        """The market events in one frame; raises FeedMessageError or VenueError."""
        ...


def _clip(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _CLIP else text[: _CLIP - 3] + "..."


def _load(what: str, raw: str | bytes) -> dict[str, object]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise FeedMessageError(f"{what}: not JSON: {_clip(raw)}") from None
    if not isinstance(value, dict):
        raise FeedMessageError(f"{what}: not a JSON object: {_clip(value)}")
    return value


class _Fields:
    """Typed access to one message object; every error names the message and the field."""

    def __init__(self, what: str, obj: Mapping[str, object], prefix: str = "") -> None:
        self.what = what
        self.obj = obj
        self.prefix = prefix

    def error(self, name: str, problem: str) -> FeedMessageError:
        return FeedMessageError(f'{self.what}: field "{self.prefix}{name}": {problem}')

    def get(self, name: str) -> object:
        if name not in self.obj:
            raise self.error(name, "missing")
        return self.obj[name]

    def text(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.error(name, f"{_clip(value)} is not a non-empty string")
        return value.strip()

    def number(self, name: str) -> float:
        value = self.get(name)
        number = math.nan
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            with contextlib.suppress(ValueError):
                number = float(value)
        if not math.isfinite(number):
            raise self.error(name, f"{_clip(value)} is not a number")
        return number

    def integer(self, name: str) -> int:
        value = self.get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(name, f"{_clip(value)} is not an integer")
        return value

    def millis(self, name: str) -> float:
        """An epoch time in milliseconds, as seconds."""
        return self.integer(name) / 1000.0

    def flag(self, name: str) -> bool:
        value = self.get(name)
        if not isinstance(value, bool):
            raise self.error(name, f"{_clip(value)} is not true or false")
        return value

    def iso_time(self, name: str) -> float:
        """An ISO 8601 time (naive means UTC), as epoch seconds."""
        value = self.text(name)
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise self.error(name, f"{_clip(value)} is not an ISO 8601 time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()

    def nested(self, name: str) -> _Fields:
        value = self.get(name)
        if not isinstance(value, dict):
            raise self.error(name, f"{_clip(value)} is not an object")
        return _Fields(self.what, value, f"{self.prefix}{name}.")


class BinanceAdapter:
    """Binance spot market streams: trades and klines, raw or combined."""

    venue = "binance"

    def __init__(self, streams: Sequence[str] = ("trade", "kline_1m")) -> None:
        self.streams = tuple(streams)

    def normalise(self, symbol: str) -> str:
        return symbol.strip().upper()

    def subscribe_frames(self, symbols: Sequence[str]) -> list[str]:
        params = [f"{s.strip().lower()}@{stream}" for s in symbols for stream in self.streams]
        return [json.dumps({"method": "SUBSCRIBE", "params": params, "id": 1})]

    def parse(self, raw: str | bytes) -> list[Parsed]:
        message = _load(self.venue, raw)
        if "stream" in message and "data" in message:
            message = dict(_Fields(self.venue, message).nested("data").obj)
        if "e" not in message:
            if "result" in message and "id" in message:
                return []  # the reply to SUBSCRIBE and other requests
            if "code" in message and "msg" in message:
                raise VenueError(f"binance error {message['code']}: {message['msg']}")
            raise _Fields(self.venue, message).error("e", "missing (not an event, reply or error)")
        kind = message["e"]
        if kind == "trade":
            return [self._trade(_Fields("binance trade", message))]
        if kind == "kline":
            return self._kline(_Fields("binance kline", message))
        return []  # event types we did not subscribe to

    def _trade(self, fields: _Fields) -> Parsed:
        tick = Tick(
            self.normalise(fields.text("s")),
            fields.millis("T"),
            fields.number("p"),
            fields.number("q"),
        )
        return Parsed(tick, fields.millis("E"), fields.integer("t"))

    def _kline(self, fields: _Fields) -> list[Parsed]:
        sent_at = fields.millis("E")
        k = fields.nested("k")
        if not k.flag("x"):
            return []  # an update of a bar still forming
        bar = Bar(
            self.normalise(k.text("s")),
            k.millis("t"),
            k.number("o"),
            k.number("h"),
            k.number("l"),
            k.number("c"),
            k.number("v"),
        )
        return [Parsed(bar, sent_at)]


class CoinbaseAdapter:
    """Coinbase Exchange websocket feed: the ticker and matches channels."""

    venue = "coinbase"
    _TRADES = {"ticker": "last_size", "match": "size", "last_match": "size"}  # type -> size field

    def __init__(self, channels: Sequence[str] = ("ticker", "matches")) -> None:
        self.channels = tuple(channels)
        self._last_trade: dict[str, int] = {}

    def normalise(self, symbol: str) -> str:
        return symbol.strip().upper()

    def subscribe_frames(self, symbols: Sequence[str]) -> list[str]:
        products = [self.normalise(s) for s in symbols]
        frame = {"type": "subscribe", "product_ids": products, "channels": list(self.channels)}
        return [json.dumps(frame)]

    def parse(self, raw: str | bytes) -> list[Parsed]:
        message = _load(self.venue, raw)
        kind = _Fields(self.venue, message).text("type")
        if kind == "error":
            detail = message.get("reason") or ""
            raise VenueError(f"coinbase error: {message.get('message')} {detail}".strip())
        size_field = self._TRADES.get(kind)
        if size_field is None:
            return []  # subscriptions, heartbeat and channels we do not read
        fields = _Fields(f"coinbase {kind}", message)
        symbol = self.normalise(fields.text("product_id"))
        trade_id = fields.integer("trade_id")
        ts = fields.iso_time("time")
        tick = Tick(symbol, ts, fields.number("price"), fields.number(size_field))
        if self._last_trade.get(symbol) == trade_id:
            return []  # the venue repeating a trade already published
        self._last_trade[symbol] = trade_id
        return [Parsed(tick, ts, trade_id)]


class GenericJsonAdapter:
    """The documented generic format (see the module docstring), for relays and tests."""

    venue = "generic"

    def normalise(self, symbol: str) -> str:
        return symbol.strip()

    def subscribe_frames(self, symbols: Sequence[str]) -> list[str]:
        return [json.dumps({"type": "subscribe", "symbols": [self.normalise(s) for s in symbols]})]

    def parse(self, raw: str | bytes) -> list[Parsed]:
        message = _load(self.venue, raw)
        if "price" in message:
            fields = _Fields("generic tick", message)
            ts = fields.number("ts")
            tick = Tick(fields.text("symbol"), ts, fields.number("price"), fields.number("size"))
            return [Parsed(tick, ts)]
        if "open" in message:
            fields = _Fields("generic bar", message)
            values = [fields.number(k) for k in ("ts", "open", "high", "low", "close", "volume")]
            return [Parsed(Bar(fields.text("symbol"), *values), None)]
        kind = message.get("type")
        if kind == "error":
            raise VenueError(f"generic error: {message.get('message')}")
        if kind is not None:
            return []  # control messages: subscription replies, heartbeats
        raise _Fields("generic", message).error("price", 'missing, and no "open": not data')
