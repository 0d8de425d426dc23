"""Volume: rules that read participation as well as price."""

from __future__ import annotations

import numpy as np
from numba import njit

from core.research import indicators as ind
from core.research.signals import band_signals, crossover_signals, event_signals, thrust_signals
from core.research.strategies.base import (
    TIME_EXIT_PINE,
    Direction,
    Family,
    Param,
    Strategy,
)

A = np.ndarray
WINDOW = Param("window", int, 20, 2, 200, 1, "averaging window")


@njit(cache=True, nogil=True)
def obv_cross_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    line = ind.obv(close, volume)
    return crossover_signals(line, ind.sma(line, window))


@njit(cache=True, nogil=True)
def pvt_cross_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    line = ind.price_volume_trend(close, volume)
    return crossover_signals(line, ind.sma(line, window))


def _line_cross(id_: str, name: str, line: str, kernel, pine_line: str) -> Strategy:
    return Strategy(
        id=id_,
        name=name,
        family=Family.VOLUME,
        direction=Direction.LONG,
        description=(
            f"{line} Long when the line crosses above its own simple moving average "
            "(volume is confirming the move), out or short when it crosses below."
        ),
        params=(WINDOW,),
        signal=kernel,
        lookback=lambda p: int(p["window"]) + 1,
        pine=(
            pine_line + "avgLine = ta.sma(volLine, window)\n"
            "longEntry = volLine > avgLine and volLine[1] < avgLine[1]\n"
            "shortEntry = volLine < avgLine and volLine[1] > avgLine[1]\n"
        ),
        recursive=True,
    )


OBV_CROSS = _line_cross(
    "obv_cross", "On-balance volume trend",
    "On-balance volume adds the day's volume on an up close and subtracts it on a "
    "down close.", obv_cross_signal,
    # as ind.obv: the first bar counts its whole volume (ta.obv would start from na)
    "volLine = ta.cum(bar_index == 0 or close > close[1] ? volume "
    ": close < close[1] ? -volume : 0)\n",
)  # fmt: skip
PVT_CROSS = _line_cross(
    "pvt_cross", "Price volume trend",
    "The price volume trend adds each bar's volume times its percent change.",
    pvt_cross_signal,
    # as ind.price_volume_trend: 0 on the first bar (ta.pvt would start from na)
    "volLine = ta.cum(bar_index == 0 ? 0 : volume * (close - close[1]) / close[1])\n",
)  # fmt: skip


@njit(cache=True, nogil=True)
def cmf_signal(open_: A, high: A, low: A, close: A, volume: A, window: int, level: float) -> A:
    return thrust_signals(ind.chaikin_money_flow(high, low, close, volume, window), level)


CMF_TREND = Strategy(
    id="cmf_trend",
    name="Chaikin money flow",
    family=Family.VOLUME,
    direction=Direction.LONG,
    description=(
        "Chaikin money flow is the volume-weighted average of where closes sit in "
        "their bars' ranges. Long when it rises through +`level` (buying pressure), "
        "short when it falls through -`level`; a long exits when it turns negative, "
        "a short when it turns positive."
    ),
    params=(WINDOW, Param("level", float, 0.05, 0.0, 0.5, 0.01, "money flow that triggers")),
    signal=cmf_signal,
    lookback=lambda p: int(p["window"]) + 1,
    pine=(
        "mfv = high == low ? 0.0 : ((close - low) - (high - close)) / (high - low) * volume\n"
        "cmf = math.sum(mfv, window) / math.sum(volume, window)\n"
        "longEntry = ta.crossover(cmf, level)\nshortEntry = ta.crossunder(cmf, -level)\n"
        "longExit = ta.crossunder(cmf, 0)\nshortExit = ta.crossover(cmf, 0)\n"
    ),
)


@njit(cache=True, nogil=True)
def chaikin_oscillator_signal(
    open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int
) -> A:
    osc = ind.chaikin_oscillator(high, low, close, volume, fast, slow)
    return crossover_signals(osc, np.zeros(close.shape[0]))


CHAIKIN_OSCILLATOR = Strategy(
    id="chaikin_oscillator",
    name="Chaikin oscillator",
    family=Family.VOLUME,
    direction=Direction.LONG,
    description=(
        "The Chaikin oscillator is the MACD of the accumulation/distribution line "
        "(fast EMA minus slow EMA). Long when it crosses above zero (accumulation "
        "accelerating), out or short when it crosses below."
    ),
    params=(
        Param("fast", int, 3, 2, 50, 1, "fast EMA span"),
        Param("slow", int, 10, 3, 100, 1, "slow EMA span"),
    ),
    signal=chaikin_oscillator_signal,
    lookback=lambda p: int(p["slow"]) + 1,
    pine=(
        "osc = ta.ema(ta.accdist, fast) - ta.ema(ta.accdist, slow)\n"
        "longEntry = osc > 0 and osc[1] < 0\nshortEntry = osc < 0 and osc[1] > 0\n"
    ),
    constraints=(("fast < slow", lambda p: p["fast"] < p["slow"]),),
    recursive=True,
)


@njit(cache=True, nogil=True)
def vwap_cross_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    return crossover_signals(close, ind.rolling_vwap(high, low, close, volume, window))


VWAP_CROSS = Strategy(
    id="vwap_cross",
    name="Rolling VWAP trend",
    family=Family.VOLUME,
    direction=Direction.LONG,
    description=(
        "The rolling VWAP is the volume-weighted average typical price of the last "
        "`window` bars: the price the crowd paid. Long when the close crosses above "
        "it, out or short when it crosses below."
    ),
    params=(WINDOW,),
    signal=vwap_cross_signal,
    lookback=lambda p: int(p["window"]) + 1,
    pine=(
        "vw = math.sum(hlc3 * volume, window) / math.sum(volume, window)\n"
        "longEntry = close > vw and close[1] < vw[1]\n"
        "shortEntry = close < vw and close[1] > vw[1]\n"
    ),
)


@njit(cache=True, nogil=True)
def vwap_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, percent: float
) -> A:
    vw = ind.rolling_vwap(high, low, close, volume, window)
    return band_signals(close, vw * (1 - percent / 100), vw * (1 + percent / 100), vw, True)


VWAP_REVERSION = Strategy(
    id="vwap_reversion",
    name="VWAP deviation reversion",
    family=Family.VOLUME,
    direction=Direction.LONG,
    description=(
        "Fades stretches away from the rolling VWAP: long when the close falls "
        "`percent` below it, short when it rises `percent` above; a trade exits when "
        "the close crosses back through the VWAP."
    ),
    params=(WINDOW, Param("percent", float, 3.0, 0.25, 20.0, 0.25, "deviation in percent")),
    signal=vwap_reversion_signal,
    lookback=lambda p: int(p["window"]) + 1,
    pine=(
        "middle = math.sum(hlc3 * volume, window) / math.sum(volume, window)\n"
        "lowerBand = middle * (1 - percent / 100)\nupperBand = middle * (1 + percent / 100)\n"
        "longEntry = ta.crossunder(close, lowerBand)\nshortEntry = ta.crossover(close, upperBand)\n"
        "longExit = ta.crossover(close, middle)\nshortExit = ta.crossunder(close, middle)\n"
    ),
)


@njit(cache=True, nogil=True)
def force_index_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    return crossover_signals(ind.force_index(close, volume, window), np.zeros(close.shape[0]))


FORCE_INDEX = Strategy(
    id="force_index",
    name="Elder force index",
    family=Family.VOLUME,
    direction=Direction.LONG,
    description=(
        "Elder's force index is price change times volume, smoothed by an EMA. Long "
        "when it crosses above zero (bulls in control), out or short when it crosses "
        "below."
    ),
    params=(Param("window", int, 13, 2, 100, 1, "EMA span"),),
    signal=force_index_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        "fi = ta.ema(ta.change(close) * volume, window)\n"
        "longEntry = fi > 0 and fi[1] < 0\nshortEntry = fi < 0 and fi[1] > 0\n"
    ),
    recursive=True,
)


@njit(cache=True, nogil=True)
def volume_breakout_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, factor: float, hold: int
) -> A:
    top = ind.rolling_max(high, window)
    bottom = ind.rolling_min(low, window)
    usual = ind.sma(volume, window)
    n = close.shape[0]
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(window, n):
        if volume[i] > factor * usual[i - 1]:
            up[i] = close[i] > top[i - 1]
            down[i] = close[i] < bottom[i - 1]
    return event_signals(up, down, hold)


VOLUME_BREAKOUT = Strategy(
    id="volume_breakout",
    name="Breakout on volume",
    family=Family.VOLUME,
    direction=Direction.LONG,
    description=(
        "A breakout only counts with conviction: long when the close clears the "
        "previous `window`-bar high on volume at least `factor` times the previous "
        "average, short on the mirror-image breakdown. Trades close after `hold` bars."
    ),
    params=(
        WINDOW,
        Param("factor", float, 1.5, 1.0, 5.0, 0.1, "volume over its average"),
        Param("hold", int, 10, 1, 100, 1, "bars a trade is held"),
    ),
    signal=volume_breakout_signal,
    lookback=lambda p: int(p["window"]) + int(p["hold"]) + 1,
    pine=(
        "spike = volume > factor * ta.sma(volume, window)[1]\n"
        "top = ta.highest(high, window)[1]\nbottom = ta.lowest(low, window)[1]\n"
        "longEntry = spike and close > top\nshortEntry = spike and close < bottom\n"
    )
    + TIME_EXIT_PINE,
)

VOLUME = (
    OBV_CROSS, PVT_CROSS, CMF_TREND, CHAIKIN_OSCILLATOR, VWAP_CROSS, VWAP_REVERSION, FORCE_INDEX,
    VOLUME_BREAKOUT,
)  # fmt: skip
