"""Volatility and breakout: channels, bands and range expansions."""

from __future__ import annotations

import numpy as np
from numba import njit

from core.research import indicators as ind
from core.research.signals import (
    EXIT_LONG,
    EXIT_SHORT,
    HOLD,
    LONG,
    SHORT,
    crosses_above,
    crosses_below,
    event_signals,
    state_signals,
)
from core.research.strategies.base import (
    ATR_PINE,
    HOLD_PARAM,
    TIME_EXIT_PINE,
    Direction,
    Family,
    Param,
    Strategy,
)

A = np.ndarray


@njit(cache=True, nogil=True)
def donchian_breakout_signal(
    open_: A, high: A, low: A, close: A, volume: A, entry: int, exit_window: int
) -> A:
    entry_high = ind.rolling_max(high, entry)
    entry_low = ind.rolling_min(low, entry)
    exit_high = ind.rolling_max(high, exit_window)
    exit_low = ind.rolling_min(low, exit_window)
    n = close.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(max(entry, exit_window), n):
        if close[i] > entry_high[i - 1]:
            out[i] = LONG
        elif close[i] < entry_low[i - 1]:
            out[i] = SHORT
        elif close[i] < exit_low[i - 1]:
            out[i] = EXIT_LONG
        elif close[i] > exit_high[i - 1]:
            out[i] = EXIT_SHORT
    return out


DONCHIAN_BREAKOUT = Strategy(
    id="donchian_breakout",
    name="Donchian / turtle breakout",
    family=Family.BREAKOUT,
    direction=Direction.BOTH,
    description=(
        "The turtles' system: long when the close breaks above the highest high of "
        "the previous `entry` bars, short below the lowest low. A long exits when the "
        "close breaks the lowest low of the previous `exit_window` bars, a short "
        "above the highest high."
    ),
    params=(
        Param("entry", int, 20, 2, 300, 1, "breakout channel"),
        Param("exit_window", int, 10, 2, 300, 1, "exit channel"),
    ),
    signal=donchian_breakout_signal,
    lookback=lambda p: max(int(p["entry"]), int(p["exit_window"])) + 1,
    pine=(
        "longEntry = close > ta.highest(high, entry)[1]\n"
        "shortEntry = close < ta.lowest(low, entry)[1]\n"
        "longExit = close < ta.lowest(low, exit_window)[1]\n"
        "shortExit = close > ta.highest(high, exit_window)[1]\n"
    ),
    constraints=(("exit_window < entry", lambda p: p["exit_window"] < p["entry"]),),
)


@njit(cache=True, nogil=True)
def chandelier_signal(open_: A, high: A, low: A, close: A, volume: A, window: int, k: float) -> A:
    long_stop, short_stop = ind.chandelier(high, low, close, window, k)
    n = close.shape[0]
    state = np.full(n, np.nan)
    current = np.nan
    for i in range(1, n):
        if np.isnan(long_stop[i - 1]):
            continue
        if close[i] > short_stop[i - 1]:
            current = 1.0
        elif close[i] < long_stop[i - 1]:
            current = -1.0
        state[i] = current
    return state_signals(state)


CHANDELIER = Strategy(
    id="chandelier",
    name="Chandelier exit reversal",
    family=Family.BREAKOUT,
    direction=Direction.BOTH,
    description=(
        "Le Beau's chandelier exits hang k ATRs below the highest high (for longs) "
        "and above the lowest low (for shorts) of the window. Long when the close "
        "rises above the short exit, short when it falls below the long exit: "
        "always in, flipping when volatility-adjusted extremes are broken."
    ),
    params=(
        Param("window", int, 22, 2, 200, 1, "extremes and ATR window"),
        Param("k", float, 3.0, 0.5, 10.0, 0.25, "ATR multiple"),
    ),
    signal=chandelier_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        ATR_PINE + "a = wilderAtr(window)\nlongStop = ta.highest(high, window) - k * a\n"
        "shortStop = ta.lowest(low, window) + k * a\n"
        "var int dir = na\n"
        "dir := close > shortStop[1] ? 1 : close < longStop[1] ? -1 : dir\n"
        "longEntry = dir == 1 and dir[1] == -1\nshortEntry = dir == -1 and dir[1] == 1\n"
    ),
    recursive=True,
)


@njit(cache=True, nogil=True)
def squeeze_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, bb_k: float, kc_k: float
) -> A:
    mid, bb_upper, bb_lower = ind.bollinger(close, window, bb_k)
    _, kc_upper, kc_lower = ind.keltner(high, low, close, window, window, kc_k)
    n = close.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(1, n):
        if np.isnan(kc_upper[i - 1]) or np.isnan(bb_upper[i - 1]):
            continue
        was_on = bb_upper[i - 1] < kc_upper[i - 1] and bb_lower[i - 1] > kc_lower[i - 1]
        is_on = bb_upper[i] < kc_upper[i] and bb_lower[i] > kc_lower[i]
        if was_on and not is_on:
            out[i] = LONG if close[i] > mid[i] else SHORT
        elif crosses_below(close, mid, i):
            out[i] = EXIT_LONG
        elif crosses_above(close, mid, i):
            out[i] = EXIT_SHORT
    return out


SQUEEZE = Strategy(
    id="squeeze",
    name="Bollinger-Keltner squeeze",
    family=Family.BREAKOUT,
    direction=Direction.BOTH,
    description=(
        "Volatility contracts before it expands. The squeeze is on while the "
        "Bollinger bands sit inside the Keltner channel; on the bar it releases, go "
        "long if the close is above the middle average, short if below. A trade "
        "exits when the close crosses back through the average."
    ),
    params=(
        Param("window", int, 20, 5, 200, 1, "band and channel window"),
        Param("bb_k", float, 2.0, 0.5, 4.0, 0.25, "Bollinger width in deviations"),
        Param("kc_k", float, 1.5, 0.5, 4.0, 0.25, "Keltner width in ATRs"),
    ),
    signal=squeeze_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        "[middle, bbUp, bbLo] = ta.bb(close, window, bb_k)\n"
        + ATR_PINE
        + "kcUp = ta.ema(close, window) + kc_k * wilderAtr(window)\n"
        "kcLo = ta.ema(close, window) - kc_k * wilderAtr(window)\n"
        "squeezed = bbUp < kcUp and bbLo > kcLo\nreleased = squeezed[1] and not squeezed\n"
        "longEntry = released and close > middle\nshortEntry = released and close <= middle\n"
        "longExit = ta.crossunder(close, middle)\nshortExit = ta.crossover(close, middle)\n"
    ),
    recursive=True,
)


@njit(cache=True, nogil=True)
def nr7_signal(open_: A, high: A, low: A, close: A, volume: A, narrowest: int, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(narrowest, n):
        setup = i - 1
        span = high[setup] - low[setup]
        is_narrowest = True
        for j in range(setup - narrowest + 1, setup):
            if high[j] - low[j] <= span:
                is_narrowest = False
                break
        if is_narrowest:
            up[i] = close[i] > high[setup]
            down[i] = close[i] < low[setup]
    return event_signals(up, down, hold)


NR7 = Strategy(
    id="nr7",
    name="NR7 breakout",
    family=Family.BREAKOUT,
    direction=Direction.BOTH,
    description=(
        "Crabel's narrow-range setup: when yesterday's range was the narrowest of the "
        "last `narrowest` bars, trade today's close beyond it: long above its high, "
        "short below its low. Trades close after `hold` bars."
    ),
    params=(Param("narrowest", int, 7, 3, 30, 1, "bars the setup range must beat"), HOLD_PARAM),
    signal=nr7_signal,
    lookback=lambda p: int(p["narrowest"]) + int(p["hold"]) + 1,
    pine=(
        "rng = high - low\nsetup = rng[1] < ta.lowest(rng, narrowest - 1)[2]\n"
        "longEntry = setup and close > high[1]\nshortEntry = setup and close < low[1]\n"
    )
    + TIME_EXIT_PINE,
)


@njit(cache=True, nogil=True)
def inside_bar_signal(open_: A, high: A, low: A, close: A, volume: A, hold: int) -> A:
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(2, n):
        if high[i - 1] < high[i - 2] and low[i - 1] > low[i - 2]:
            up[i] = close[i] > high[i - 2]
            down[i] = close[i] < low[i - 2]
    return event_signals(up, down, hold)


INSIDE_BAR = Strategy(
    id="inside_bar",
    name="Inside-bar breakout",
    family=Family.BREAKOUT,
    direction=Direction.BOTH,
    description=(
        "An inside bar (range within the previous bar's) marks indecision. When the "
        "next close breaks out of the mother bar, follow it: long above its high, "
        "short below its low. Trades close after `hold` bars."
    ),
    params=(HOLD_PARAM,),
    signal=inside_bar_signal,
    lookback=lambda p: int(p["hold"]) + 3,
    pine=(
        "inside = high[1] < high[2] and low[1] > low[2]\n"
        "longEntry = inside and close > high[2]\nshortEntry = inside and close < low[2]\n"
    )
    + TIME_EXIT_PINE,
)


@njit(cache=True, nogil=True)
def atr_breakout_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, k: float, hold: int
) -> A:
    a = ind.atr(high, low, close, window)
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(1, n):
        if not np.isnan(a[i - 1]):
            up[i] = close[i] > close[i - 1] + k * a[i - 1]
            down[i] = close[i] < close[i - 1] - k * a[i - 1]
    return event_signals(up, down, hold)


ATR_BREAKOUT = Strategy(
    id="atr_breakout",
    name="Volatility expansion",
    family=Family.BREAKOUT,
    direction=Direction.LONG,
    description=(
        "A bar that moves more than `k` average true ranges from the previous close "
        "starts a move: long after an up-thrust, short after a down-thrust. Trades "
        "close after `hold` bars."
    ),
    params=(
        Param("window", int, 14, 2, 100, 1, "ATR window"),
        Param("k", float, 1.0, 0.25, 5.0, 0.25, "thrust in ATRs"),
        HOLD_PARAM,
    ),
    signal=atr_breakout_signal,
    lookback=lambda p: int(p["window"]) + int(p["hold"]) + 2,
    pine=(
        ATR_PINE + "a = wilderAtr(window)[1]\n"
        "longEntry = close > close[1] + k * a\nshortEntry = close < close[1] - k * a\n"
    )
    + TIME_EXIT_PINE,
    recursive=True,
)

BREAKOUT = (DONCHIAN_BREAKOUT, CHANDELIER, SQUEEZE, NR7, INSIDE_BAR, ATR_BREAKOUT)
