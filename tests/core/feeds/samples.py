"""Sample messages in the venues' documented formats, as they arrive on the wire."""

from __future__ import annotations

import json

BINANCE_TRADE = (
    '{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":3340712315,"p":"16541.23000000",'
    '"q":"0.00120000","T":1672515782134,"m":true,"M":true}'
)
BINANCE_KLINE_OPEN = (
    '{"e":"kline","E":1672515782136,"s":"BTCUSDT","k":{"t":1672515780000,"T":1672515839999,'
    '"s":"BTCUSDT","i":"1m","f":3340712100,"L":3340712315,"o":"16540.10000000",'
    '"c":"16541.23000000","h":"16542.00000000","l":"16539.55000000","v":"12.48210000",'
    '"n":216,"x":false,"q":"206453.24081440","V":"6.10020000","Q":"100897.21874210","B":"0"}}'
)
BINANCE_KLINE_CLOSED = BINANCE_KLINE_OPEN.replace('"x":false', '"x":true').replace(
    '"E":1672515782136', '"E":1672515840001'
)
BINANCE_SUBSCRIBE_REPLY = '{"result":null,"id":1}'
BINANCE_ERROR = '{"code":2,"msg":"Invalid request: missing field `method` at line 1 column 73"}'


def binance_trade(trade_id: int, price: float, event_ms: int, symbol: str = "BTCUSDT") -> str:
    return json.dumps(
        {
            "e": "trade",
            "E": event_ms,
            "s": symbol,
            "t": trade_id,
            "p": f"{price:.8f}",
            "q": "0.00120000",
            "T": event_ms - 2,
            "m": trade_id % 2 == 0,
            "M": True,
        },
        separators=(",", ":"),
    )


def combined(stream: str, payload: str) -> str:
    return f'{{"stream":"{stream}","data":{payload}}}'


COINBASE_SUBSCRIPTIONS = (
    '{"type":"subscriptions","channels":[{"name":"ticker","product_ids":["BTC-USD"]},'
    '{"name":"matches","product_ids":["BTC-USD"]}]}'
)
COINBASE_LAST_MATCH = (
    '{"type":"last_match","trade_id":29,"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8",'
    '"taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","side":"sell","size":"0.52",'
    '"price":"400.20","product_id":"BTC-USD","sequence":49,"time":"2014-11-07T08:19:27.018459Z"}'
)
COINBASE_MATCH = (
    '{"type":"match","trade_id":30,"sequence":50,'
    '"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8",'
    '"taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1",'
    '"time":"2014-11-07T08:19:27.028459Z","product_id":"BTC-USD","size":"5.23512",'
    '"price":"400.23","side":"sell"}'
)
COINBASE_TICKER = (
    '{"type":"ticker","sequence":37475248783,"product_id":"BTC-USD","price":"400.23",'
    '"open_24h":"390.11","volume_24h":"12312.12361","low_24h":"388.20","high_24h":"402.50",'
    '"volume_30d":"312391.14234","best_bid":"400.22","best_bid_size":"0.72910000",'
    '"best_ask":"400.23","best_ask_size":"1.23000000","side":"sell",'
    '"time":"2014-11-07T08:19:27.028459Z","trade_id":30,"last_size":"5.23512"}'
)
COINBASE_NEXT_TICKER = (
    COINBASE_TICKER.replace('"trade_id":30', '"trade_id":31')
    .replace('"price":"400.23"', '"price":"400.25"')
    .replace("08:19:27.028459Z", "08:19:27.531027Z")
    .replace('"last_size":"5.23512"', '"last_size":"0.01"')
)
COINBASE_HEARTBEAT = (
    '{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD",'
    '"time":"2014-11-07T08:19:28.464459Z"}'
)
COINBASE_ERROR = (
    '{"type":"error","message":"Failed to subscribe","reason":"FOO-BAR is not a valid product"}'
)

GENERIC_TICK = '{"symbol":"SPY","ts":1767225600.5,"price":587.25,"size":100}'
GENERIC_BAR = (
    '{"symbol":"SPY","ts":1767225600,"open":587.0,"high":588.1,"low":586.4,"close":587.9,'
    '"volume":125000}'
)


def generic_tick(ts: float, price: float, size: float = 1.0, symbol: str = "SPY") -> str:
    return json.dumps({"symbol": symbol, "ts": ts, "price": price, "size": size})
