"""Candlestick patterns, each traded for a fixed number of bars.

Every pattern is judged on completed bars only and signals at the close of
its last bar; the trade is closed ``hold`` bars after the signal (see
``event_signals``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from core.research import indicators as ind
from core.research.signals import event_signals
from core.research.strategies.base import (
    HOLD_PARAM,
    TIME_EXIT_PINE,
    Direction,
    Family,
    Param,
    Strategy,
)

A = np.ndarray


def _pattern(
    id_: str, name: str, description: str, params, kernel, lookback, pine: str
) -> Strategy:
    return Strategy(
        id=id_,
        name=name,
        family=Family.PATTERN,
        direction=Direction.LONG,
        description=description + " Trades close after `hold` bars.",
        params=params,
        signal=kernel,
        lookback=lookback,
        pine=pine + TIME_EXIT_PINE,
    )


@njit(cache=True, nogil=True)
def engulfing_signal(open_: A, high: A, low: A, close: A, volume: A, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        prev_red = close[i - 1] < open_[i - 1]
        prev_green = close[i - 1] > open_[i - 1]
        up[i] = (
            prev_red
            and close[i] > open_[i]
            and open_[i] <= close[i - 1]
            and close[i] > open_[i - 1]
        )
        down[i] = (
            prev_green
            and close[i] < open_[i]
            and open_[i] >= close[i - 1]
            and close[i] < open_[i - 1]
        )
    return event_signals(up, down, hold)


ENGULFING = _pattern(
    "engulfing", "Engulfing candle",
    "A bullish engulfing candle (a white body that opens at or below the previous "
    "black body's close and closes above its open) goes long; a bearish engulfing "
    "candle goes short.",
    (HOLD_PARAM,), engulfing_signal, lambda p: int(p["hold"]) + 2,
    "longEntry = close[1] < open[1] and close > open and open <= close[1] and close > open[1]\n"
    "shortEntry = close[1] > open[1] and close < open and open >= close[1] and close < open[1]\n",
)  # fmt: skip


@njit(cache=True, nogil=True)
def hammer_signal(
    open_: A, high: A, low: A, close: A, volume: A, trend: int, ratio: float, hold: int
) -> A:
    average = ind.sma(close, trend)
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(trend, n):
        body = abs(close[i] - open_[i])
        if body == 0.0:
            continue
        upper = high[i] - max(open_[i], close[i])
        lower = min(open_[i], close[i]) - low[i]
        up[i] = lower >= ratio * body and upper <= body and close[i - 1] < average[i - 1]
        down[i] = upper >= ratio * body and lower <= body and close[i - 1] > average[i - 1]
    return event_signals(up, down, hold)


HAMMER = _pattern(
    "hammer", "Hammer and shooting star",
    "After a decline (previous close below its `trend` average), a hammer (lower "
    "shadow at least `ratio` times the body, upper shadow no longer than the body) "
    "goes long; after a rise, a shooting star (the mirror image) goes short.",
    (Param("trend", int, 20, 2, 200, 1, "average that defines the prior trend"),
     Param("ratio", float, 2.0, 1.0, 5.0, 0.25, "long shadow over body"), HOLD_PARAM),
    hammer_signal, lambda p: int(p["trend"]) + int(p["hold"]) + 1,
    "body = math.abs(close - open)\nupperShadow = high - math.max(open, close)\n"
    "lowerShadow = math.min(open, close) - low\navg = ta.sma(close, trend)\n"
    "longEntry = body > 0 and lowerShadow >= ratio * body and upperShadow <= body and "
    "close[1] < avg[1]\n"
    "shortEntry = body > 0 and upperShadow >= ratio * body and lowerShadow <= body and "
    "close[1] > avg[1]\n",
)  # fmt: skip


@njit(cache=True, nogil=True)
def three_soldiers_signal(open_: A, high: A, low: A, close: A, volume: A, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(3, n):
        white = True
        black = True
        for j in range(i - 2, i + 1):
            white = white and close[j] > open_[j] and close[j] > close[j - 1]
            black = black and close[j] < open_[j] and close[j] < close[j - 1]
            if j > i - 2:  # each opens inside the previous body
                white = white and open_[j - 1] <= open_[j] <= close[j - 1]
                black = black and close[j - 1] <= open_[j] <= open_[j - 1]
        up[i] = white
        down[i] = black
    return event_signals(up, down, hold)


THREE_SOLDIERS = _pattern(
    "three_soldiers", "Three white soldiers / black crows",
    "Three white candles in a row, each closing higher and opening inside the "
    "previous body, go long; three black crows (the mirror image) go short.",
    (HOLD_PARAM,), three_soldiers_signal, lambda p: int(p["hold"]) + 4,
    "white(k) => close[k] > open[k] and close[k] > close[k + 1]\n"
    "black(k) => close[k] < open[k] and close[k] < close[k + 1]\n"
    "inWhite(k) => open[k] >= open[k + 1] and open[k] <= close[k + 1]\n"
    "inBlack(k) => open[k] <= open[k + 1] and open[k] >= close[k + 1]\n"
    "longEntry = white(0) and white(1) and white(2) and inWhite(0) and inWhite(1)\n"
    "shortEntry = black(0) and black(1) and black(2) and inBlack(0) and inBlack(1)\n",
)  # fmt: skip


@njit(cache=True, nogil=True)
def star_signal(open_: A, high: A, low: A, close: A, volume: A, small: float, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(2, n):
        first = close[i - 2] - open_[i - 2]
        middle = abs(close[i - 1] - open_[i - 1])
        if middle > small * abs(first):
            continue
        midpoint = (open_[i - 2] + close[i - 2]) / 2.0
        up[i] = first < 0 and close[i] > open_[i] and close[i] > midpoint
        down[i] = first > 0 and close[i] < open_[i] and close[i] < midpoint
    return event_signals(up, down, hold)


STAR = _pattern(
    "star", "Morning and evening star",
    "A morning star (a long black candle, a small-bodied candle whose body is at "
    "most `small` times the first, then a white candle closing above the first "
    "body's midpoint) goes long; an evening star goes short.",
    (Param("small", float, 0.3, 0.05, 1.0, 0.05, "middle body over the first body"),
     HOLD_PARAM),
    star_signal, lambda p: int(p["hold"]) + 3,
    "first = close[2] - open[2]\nsmallBody = math.abs(close[1] - open[1]) <= small * "
    "math.abs(first)\nmid = (open[2] + close[2]) / 2\n"
    "longEntry = smallBody and first < 0 and close > open and close > mid\n"
    "shortEntry = smallBody and first > 0 and close < open and close < mid\n",
)  # fmt: skip


@njit(cache=True, nogil=True)
def piercing_signal(open_: A, high: A, low: A, close: A, volume: A, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        midpoint = (open_[i - 1] + close[i - 1]) / 2.0
        up[i] = (close[i - 1] < open_[i - 1] and open_[i] < close[i - 1]
                 and midpoint < close[i] < open_[i - 1])  # fmt: skip
        down[i] = (close[i - 1] > open_[i - 1] and open_[i] > close[i - 1]
                   and open_[i - 1] < close[i] < midpoint)  # fmt: skip
    return event_signals(up, down, hold)


PIERCING = _pattern(
    "piercing", "Piercing line and dark cloud cover",
    "A piercing line (after a black candle, open below its close and close above "
    "its midpoint but below its open) goes long; a dark cloud cover (the mirror "
    "image after a white candle) goes short.",
    (HOLD_PARAM,), piercing_signal, lambda p: int(p["hold"]) + 2,
    "mid = (open[1] + close[1]) / 2\n"
    "longEntry = close[1] < open[1] and open < close[1] and close > mid and close < open[1]\n"
    "shortEntry = close[1] > open[1] and open > close[1] and close < mid and close > open[1]\n",
)  # fmt: skip


@njit(cache=True, nogil=True)
def harami_signal(open_: A, high: A, low: A, close: A, volume: A, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        top = max(open_[i - 1], close[i - 1])
        bottom = min(open_[i - 1], close[i - 1])
        inside = top > max(open_[i], close[i]) and bottom < min(open_[i], close[i])
        up[i] = inside and close[i - 1] < open_[i - 1] and close[i] > open_[i]
        down[i] = inside and close[i - 1] > open_[i - 1] and close[i] < open_[i]
    return event_signals(up, down, hold)


HARAMI = _pattern(
    "harami", "Harami",
    "A bullish harami (a white body held strictly inside the previous black body) "
    "goes long; a bearish harami (a black body inside the previous white one) goes "
    "short.",
    (HOLD_PARAM,), harami_signal, lambda p: int(p["hold"]) + 2,
    "top = math.max(open[1], close[1])\nbottom = math.min(open[1], close[1])\n"
    "inside = top > math.max(open, close) and bottom < math.min(open, close)\n"
    "longEntry = inside and close[1] < open[1] and close > open\n"
    "shortEntry = inside and close[1] > open[1] and close < open\n",
)  # fmt: skip


@njit(cache=True, nogil=True)
def outside_reversal_signal(open_: A, high: A, low: A, close: A, volume: A, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        outside = high[i] > high[i - 1] and low[i] < low[i - 1]
        up[i] = outside and close[i] > high[i - 1]
        down[i] = outside and close[i] < low[i - 1]
    return event_signals(up, down, hold)


OUTSIDE_REVERSAL = _pattern(
    "outside_reversal", "Outside-bar reversal",
    "An outside bar (higher high and lower low than the previous bar) that closes "
    "above the previous high goes long; one that closes below the previous low "
    "goes short.",
    (HOLD_PARAM,), outside_reversal_signal, lambda p: int(p["hold"]) + 2,
    "outside = high > high[1] and low < low[1]\n"
    "longEntry = outside and close > high[1]\nshortEntry = outside and close < low[1]\n",
)  # fmt: skip


@njit(cache=True, nogil=True)
def gap_reversal_signal(open_: A, high: A, low: A, close: A, volume: A, gap: float, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        up[i] = open_[i] < low[i - 1] * (1 - gap / 100) and close[i] > open_[i]
        down[i] = open_[i] > high[i - 1] * (1 + gap / 100) and close[i] < open_[i]
    return event_signals(up, down, hold)


GAP_REVERSAL = _pattern(
    "gap_reversal", "Gap reversal",
    "A bar that opens more than `gap` percent below the previous low and closes "
    "above its open (the gap is being rejected) goes long; a gap up above the "
    "previous high that closes below its open goes short.",
    (Param("gap", float, 0.5, 0.0, 10.0, 0.1, "gap beyond the previous bar, percent"),
     HOLD_PARAM),
    gap_reversal_signal, lambda p: int(p["hold"]) + 2,
    "longEntry = open < low[1] * (1 - gap / 100) and close > open\n"
    "shortEntry = open > high[1] * (1 + gap / 100) and close < open\n",
)  # fmt: skip

PATTERN = (
    ENGULFING, HAMMER, THREE_SOLDIERS, STAR, PIERCING, HARAMI, OUTSIDE_REVERSAL, GAP_REVERSAL,
)  # fmt: skip
