"""Parsing the venues' documented messages, and refusing garbage with errors that name the field."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from core.events import Bar, Tick
from core.market.feeds import (
    BinanceAdapter,
    CoinbaseAdapter,
    FeedMessageError,
    GenericJsonAdapter,
    Parsed,
    VenueError,
)
from tests.core.feeds import samples


def test_binance_trade_parses_to_tick_at_trade_time_with_event_time_and_id() -> None:
    assert BinanceAdapter().parse(samples.BINANCE_TRADE) == [
        Parsed(Tick("BTCUSDT", 1672515782.134, 16541.23, 0.0012), 1672515782.136, 3340712315)
    ]


def test_binance_closed_kline_parses_to_bar_at_open_time() -> None:
    [parsed] = BinanceAdapter().parse(samples.BINANCE_KLINE_CLOSED)
    assert parsed.event == Bar(
        "BTCUSDT", 1672515780.0, 16540.1, 16542.0, 16539.55, 16541.23, 12.4821
    )
    assert parsed.sent_at == 1672515840.001
    assert parsed.seq is None


def test_binance_open_kline_gives_no_event() -> None:
    assert BinanceAdapter().parse(samples.BINANCE_KLINE_OPEN) == []


def test_binance_combined_stream_unwraps_its_payload() -> None:
    adapter = BinanceAdapter()
    trade = samples.combined("btcusdt@trade", samples.BINANCE_TRADE)
    kline = samples.combined("btcusdt@kline_1m", samples.BINANCE_KLINE_CLOSED)
    assert adapter.parse(trade) == adapter.parse(samples.BINANCE_TRADE)
    assert adapter.parse(kline) == adapter.parse(samples.BINANCE_KLINE_CLOSED)


def test_binance_subscribe_reply_and_other_events_are_not_data() -> None:
    adapter = BinanceAdapter()
    assert adapter.parse(samples.BINANCE_SUBSCRIBE_REPLY) == []
    assert adapter.parse('{"result":["btcusdt@trade"],"id":3}') == []
    agg_trade = samples.BINANCE_TRADE.replace('"e":"trade"', '"e":"aggTrade"')
    assert adapter.parse(agg_trade) == []


def test_binance_error_reply_raises_venue_error_with_its_message() -> None:
    with pytest.raises(VenueError, match=r"binance error 2: Invalid request: missing field"):
        BinanceAdapter().parse(samples.BINANCE_ERROR)


def test_binance_subscribe_frame_names_lowercase_streams() -> None:
    frames = BinanceAdapter().subscribe_frames(["BTCUSDT", "ethusdt"])
    assert [json.loads(f) for f in frames] == [
        {
            "method": "SUBSCRIBE",
            "params": ["btcusdt@trade", "btcusdt@kline_1m", "ethusdt@trade", "ethusdt@kline_1m"],
            "id": 1,
        }
    ]


def test_binance_bad_price_error_names_message_and_field() -> None:
    bad = samples.BINANCE_TRADE.replace('"p":"16541.23000000"', '"p":"abc"')
    with pytest.raises(FeedMessageError) as error:
        BinanceAdapter().parse(bad)
    assert str(error.value) == "binance trade: field \"p\": 'abc' is not a number"


def test_binance_bad_kline_field_error_names_the_nested_field() -> None:
    bad = samples.BINANCE_KLINE_CLOSED.replace('"h":"16542.00000000"', '"h":null')
    with pytest.raises(FeedMessageError, match=r'binance kline: field "k.h": None is not a number'):
        BinanceAdapter().parse(bad)


def test_coinbase_ticker_parses_to_tick_at_its_time() -> None:
    time = datetime(2014, 11, 7, 8, 19, 27, 28459, tzinfo=UTC).timestamp()
    assert CoinbaseAdapter().parse(samples.COINBASE_TICKER) == [
        Parsed(Tick("BTC-USD", time, 400.23, 5.23512), time, 30)
    ]


def test_coinbase_match_and_last_match_parse_to_ticks() -> None:
    adapter = CoinbaseAdapter()
    [last] = adapter.parse(samples.COINBASE_LAST_MATCH)
    [match] = adapter.parse(samples.COINBASE_MATCH)
    assert last.event == Tick("BTC-USD", last.event.ts, 400.20, 0.52)
    assert last.seq == 29
    assert match.event == Tick("BTC-USD", match.event.ts, 400.23, 5.23512)
    assert match.event.ts - last.event.ts == pytest.approx(0.01)


def test_coinbase_ticker_repeating_a_match_is_skipped_so_each_trade_counts_once() -> None:
    adapter = CoinbaseAdapter()
    assert len(adapter.parse(samples.COINBASE_MATCH)) == 1
    assert adapter.parse(samples.COINBASE_TICKER) == []  # same trade_id 30
    assert [p.seq for p in adapter.parse(samples.COINBASE_NEXT_TICKER)] == [31]


def test_coinbase_subscriptions_and_heartbeat_are_not_data() -> None:
    adapter = CoinbaseAdapter()
    assert adapter.parse(samples.COINBASE_SUBSCRIPTIONS) == []
    assert adapter.parse(samples.COINBASE_HEARTBEAT) == []


def test_coinbase_error_raises_venue_error_with_message_and_reason() -> None:
    with pytest.raises(VenueError, match="Failed to subscribe FOO-BAR is not a valid product"):
        CoinbaseAdapter().parse(samples.COINBASE_ERROR)


def test_coinbase_subscribe_frame_matches_the_documented_shape() -> None:
    [frame] = CoinbaseAdapter().subscribe_frames(["btc-usd"])
    assert json.loads(frame) == {
        "type": "subscribe",
        "product_ids": ["BTC-USD"],
        "channels": ["ticker", "matches"],
    }


def test_coinbase_bad_time_error_names_the_field() -> None:
    bad = samples.COINBASE_MATCH.replace("2014-11-07T08:19:27.028459Z", "yesterday")
    with pytest.raises(FeedMessageError) as error:
        CoinbaseAdapter().parse(bad)
    assert str(error.value) == "coinbase match: field \"time\": 'yesterday' is not an ISO 8601 time"


def test_generic_tick_and_bar_parse_and_control_messages_do_not() -> None:
    adapter = GenericJsonAdapter()
    assert adapter.parse(samples.GENERIC_TICK) == [
        Parsed(Tick("SPY", 1767225600.5, 587.25, 100.0), 1767225600.5)
    ]
    assert adapter.parse(samples.GENERIC_BAR) == [
        Parsed(Bar("SPY", 1767225600.0, 587.0, 588.1, 586.4, 587.9, 125000.0), None)
    ]
    assert adapter.parse('{"type":"subscribed","symbols":["SPY"]}') == []
    with pytest.raises(VenueError, match="unknown symbol"):
        adapter.parse('{"type":"error","message":"unknown symbol"}')


def test_symbols_keep_the_venue_spelling() -> None:
    assert BinanceAdapter().normalise(" btcusdt ") == "BTCUSDT"
    assert CoinbaseAdapter().normalise("btc-usd") == "BTC-USD"
    assert GenericJsonAdapter().normalise("Brk.B") == "Brk.B"


@pytest.mark.parametrize(
    ("adapter", "raw", "expected"),
    [
        (BinanceAdapter(), "not json at all", r"binance: not JSON: 'not json at all'"),
        (BinanceAdapter(), b"\xff\xfe{", r"binance: not JSON"),
        (BinanceAdapter(), "[1, 2]", r"binance: not a JSON object: \[1, 2\]"),
        (BinanceAdapter(), "[" * 100_000, r"binance: not JSON"),
        (BinanceAdapter(), '{"E": 1}', r'binance: field "e": missing'),
        (
            BinanceAdapter(),
            samples.BINANCE_TRADE.replace('"s":"BTCUSDT",', ""),
            r'binance trade: field "s": missing',
        ),
        (
            BinanceAdapter(),
            samples.BINANCE_TRADE.replace('"T":1672515782134', '"T":"soon"'),
            r"binance trade: field \"T\": 'soon' is not an integer",
        ),
        (
            BinanceAdapter(),
            samples.BINANCE_TRADE.replace('"q":"0.00120000"', '"q":true'),
            r'binance trade: field "q": True is not a number',
        ),
        (
            BinanceAdapter(),
            samples.BINANCE_TRADE.replace('"p":"16541.23000000"', '"p":"NaN"'),
            r"binance trade: field \"p\": 'NaN' is not a number",
        ),
        (
            BinanceAdapter(),
            samples.BINANCE_KLINE_CLOSED.replace('"x":true', '"x":"yes"'),
            r"binance kline: field \"k.x\": 'yes' is not true or false",
        ),
        (
            BinanceAdapter(),
            samples.combined("btcusdt@trade", "[]"),
            r'binance: field "data": \[\] is not an object',
        ),
        (CoinbaseAdapter(), '{"product_id": "BTC-USD"}', r'coinbase: field "type": missing'),
        (
            CoinbaseAdapter(),
            samples.COINBASE_MATCH.replace('"price":"400.23"', '"price":["400.23"]'),
            r"coinbase match: field \"price\": \['400.23'\] is not a number",
        ),
        (
            CoinbaseAdapter(),
            samples.COINBASE_TICKER.replace('"trade_id":30', '"trade_id":30.5'),
            r'coinbase ticker: field "trade_id": 30.5 is not an integer',
        ),
        (
            GenericJsonAdapter(),
            '{"symbol":"SPY","price":1,"size":1}',
            r'generic tick: field "ts": missing',
        ),
        (
            GenericJsonAdapter(),
            '{"symbol":"","ts":1,"price":1,"size":1}',
            r"generic tick: field \"symbol\": '' is not a non-empty string",
        ),
        (
            GenericJsonAdapter(),
            '{"symbol":"SPY","ts":1,"price":Infinity,"size":1}',
            r'generic tick: field "price": inf is not a number',
        ),
        (GenericJsonAdapter(), '{"symbol":"SPY","ts":1}', r'generic: field "price": missing'),
    ],
)
def test_garbage_raises_feed_message_error_naming_the_problem(
    adapter: BinanceAdapter | CoinbaseAdapter | GenericJsonAdapter, raw: str | bytes, expected: str
) -> None:
    with pytest.raises(FeedMessageError, match=expected):
        adapter.parse(raw)


def test_mutated_messages_only_ever_raise_feed_or_venue_errors() -> None:
    """Seeded fuzzing: cut, flip and retype the samples; nothing but our two errors escapes."""
    rng = random.Random(20260101)
    cases = [
        (BinanceAdapter, samples.BINANCE_TRADE),
        (BinanceAdapter, samples.combined("btcusdt@kline_1m", samples.BINANCE_KLINE_CLOSED)),
        (CoinbaseAdapter, samples.COINBASE_TICKER),
        (CoinbaseAdapter, samples.COINBASE_MATCH),
        (GenericJsonAdapter, samples.GENERIC_BAR),
    ]
    replacements = ["null", "true", "[]", "{}", '"x"', "-1", "1e999", '""', "0"]
    outcomes = {"parsed": 0, "refused": 0}
    for adapter_type, sample in cases:
        adapter = adapter_type()
        for _ in range(400):
            text = sample
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(max(len(text), 1))
                choice = rng.random()
                if choice < 0.3:
                    text = text[:i]
                elif choice < 0.6:
                    text = text[:i] + rng.choice('{}[]":,0a') + text[i + 1 :]
                else:
                    value = json.loads(text) if _is_object(text) else None
                    if value:
                        key = rng.choice(sorted(value))
                        value[key] = json.loads(rng.choice(replacements))
                        text = json.dumps(value)
            try:
                assert isinstance(adapter.parse(text), list)
                outcomes["parsed"] += 1
            except (FeedMessageError, VenueError):
                outcomes["refused"] += 1
    assert min(outcomes.values()) > 100  # both paths were exercised


def _is_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
