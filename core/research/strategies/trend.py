"""Trend following: moving-average crossovers and their relatives.

Each kernel takes (open, high, low, close, volume, *params) and returns signal
codes for both sides; see ``core.research.signals``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from core.research import indicators as ind
from core.research.signals import (
    EXIT_LONG,
    EXIT_SHORT,
    HOLD,
    crossover_signals,
    state_signals,
    thrust_signals,
)
from core.research.strategies.base import ATR_PINE, Direction, Family, Param, Strategy

A = np.ndarray
FAST_BELOW_SLOW = (("fast < slow", lambda p: p["fast"] < p["slow"]),)


def _fast_slow(default_fast: int, default_slow: int) -> tuple[Param, Param]:
    return (
        Param("fast", int, default_fast, 2, 200, 1, "bars in the fast average"),
        Param("slow", int, default_slow, 3, 400, 1, "bars in the slow average"),
    )


def _ma_cross(
    id_: str, name: str, average: str, kernel, lookback, pine_fn: str, recursive: bool, feature,
    pine_defs: str = "",
) -> Strategy:  # fmt: skip
    return Strategy(
        id=id_,
        name=name,
        family=Family.TREND,
        direction=Direction.LONG,
        description=(
            f"Goes long when the fast {average} of the close crosses above the slow one "
            "and leaves (or goes short, when shorting) when it crosses back below. A "
            "cross is strict both ways: fast below slow on the previous bar, above on "
            "this one. Nothing trades until both averages exist."
        ),
        params=_fast_slow(10, 30),
        signal=kernel,
        lookback=lookback,
        pine=(
            f"{pine_defs}"
            f"fastMa = {pine_fn}(close, fast)\n"
            f"slowMa = {pine_fn}(close, slow)\n"
            "longEntry = fastMa > slowMa and fastMa[1] < slowMa[1]\n"
            "shortEntry = fastMa < slowMa and fastMa[1] > slowMa[1]\n"
        ),
        constraints=FAST_BELOW_SLOW,
        recursive=recursive,
        cross_feature=feature,
    )


@njit(cache=True, nogil=True)
def sma_cross_signal(open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int) -> A:
    return crossover_signals(ind.sma(close, fast), ind.sma(close, slow))


@njit(cache=True, nogil=True)
def ema_cross_signal(open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int) -> A:
    return crossover_signals(ind.ema(close, fast), ind.ema(close, slow))


@njit(cache=True, nogil=True)
def wma_cross_signal(open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int) -> A:
    return crossover_signals(ind.wma(close, fast), ind.wma(close, slow))


@njit(cache=True, nogil=True)
def hma_cross_signal(open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int) -> A:
    return crossover_signals(ind.hma(close, fast), ind.hma(close, slow))


@njit(cache=True, nogil=True)
def dema_cross_signal(open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int) -> A:
    return crossover_signals(ind.dema(close, fast), ind.dema(close, slow))


@njit(cache=True, nogil=True)
def tema_cross_signal(open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int) -> A:
    return crossover_signals(ind.tema(close, fast), ind.tema(close, slow))


SMA_CROSS = _ma_cross(
    "sma_cross", "SMA crossover", "simple moving average", sma_cross_signal,
    lambda p: int(p["slow"]) + 1, "ta.sma", False, ind.sma,
)  # fmt: skip
EMA_CROSS = _ma_cross(
    "ema_cross", "EMA crossover", "exponential moving average", ema_cross_signal,
    lambda p: int(p["slow"]) + 1, "ta.ema", True, ind.ema,
)  # fmt: skip
WMA_CROSS = _ma_cross(
    "wma_cross", "WMA crossover", "linearly weighted moving average", wma_cross_signal,
    lambda p: int(p["slow"]) + 1, "ta.wma", False, ind.wma,
)  # fmt: skip
# Pine has no ta.dema or ta.tema: each is built from SMA-seeded ta.ema, as ind.dema/tema are.
DEMA_PINE = "dema(src, len) =>\n    e1 = ta.ema(src, len)\n    2 * e1 - ta.ema(e1, len)\n"
TEMA_PINE = (
    "tema(src, len) =>\n    e1 = ta.ema(src, len)\n    e2 = ta.ema(e1, len)\n"
    "    3 * e1 - 3 * e2 + ta.ema(e2, len)\n"
)
HMA_CROSS = _ma_cross(
    "hma_cross", "Hull MA crossover", "Hull moving average", hma_cross_signal,
    lambda p: int(p["slow"]) + int(np.sqrt(p["slow"])), "ta.hma", False, ind.hma,
)  # fmt: skip
DEMA_CROSS = _ma_cross(
    "dema_cross", "DEMA crossover", "double exponential moving average", dema_cross_signal,
    lambda p: 2 * int(p["slow"]), "dema", True, ind.dema, DEMA_PINE,
)  # fmt: skip
TEMA_CROSS = _ma_cross(
    "tema_cross", "TEMA crossover", "triple exponential moving average", tema_cross_signal,
    lambda p: 3 * int(p["slow"]), "tema", True, ind.tema, TEMA_PINE,
)  # fmt: skip


@njit(cache=True, nogil=True)
def price_sma_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    return crossover_signals(close, ind.sma(close, window))


PRICE_SMA_CROSS = Strategy(
    id="price_sma_cross",
    name="Price crosses SMA",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Goes long when the close crosses above its simple moving average and leaves "
        "when it crosses back below: the oldest trend filter there is (the 200-day "
        "rule with the default window)."
    ),
    params=(Param("window", int, 200, 5, 400, 5, "bars in the average"),),
    signal=price_sma_signal,
    lookback=lambda p: int(p["window"]) + 1,
    pine=(
        "ma = ta.sma(close, window)\n"
        "longEntry = close > ma and close[1] < ma[1]\n"
        "shortEntry = close < ma and close[1] > ma[1]\n"
    ),
)


@njit(cache=True, nogil=True)
def kama_signal(
    open_: A, high: A, low: A, close: A, volume: A, er_window: int, fast: int, slow: int
) -> A:
    return crossover_signals(close, ind.kama(close, er_window, fast, slow))


KAMA_CROSS = Strategy(
    id="kama_cross",
    name="KAMA crossover",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Goes long when the close crosses above Kaufman's adaptive moving average and "
        "leaves when it crosses below. KAMA speeds up in clean trends (high efficiency "
        "ratio) and nearly stops in noise, so chop produces fewer whipsaws than a "
        "plain average would."
    ),
    params=(
        Param("er_window", int, 10, 2, 100, 1, "bars in the efficiency ratio"),
        Param("fast", int, 2, 2, 20, 1, "fastest smoothing span"),
        Param("slow", int, 30, 5, 100, 1, "slowest smoothing span"),
    ),
    signal=kama_signal,
    lookback=lambda p: int(p["er_window"]) + 2,
    pine=(
        "noise = math.sum(math.abs(ta.change(close)), er_window)\n"
        "er = na(noise) ? na : noise > 0 ? math.abs(close - close[er_window]) / noise : 0.0\n"
        "sc = math.pow(er * (2.0 / (fast + 1) - 2.0 / (slow + 1)) + 2.0 / (slow + 1), 2)\n"
        "var float kama = na\n"
        "kama := na(sc) ? na : na(kama[1]) ? close[1] + sc * (close - close[1]) "
        ": kama[1] + sc * (close - kama[1])\n"
        "longEntry = close > kama and close[1] < kama[1]\n"
        "shortEntry = close < kama and close[1] > kama[1]\n"
    ),
    constraints=FAST_BELOW_SLOW,
    recursive=True,
)


@njit(cache=True, nogil=True)
def ema_ribbon_signal(
    open_: A, high: A, low: A, close: A, volume: A, fast: int, middle: int, slow: int
) -> A:
    f = ind.ema(close, fast)
    m = ind.ema(close, middle)
    s = ind.ema(close, slow)
    n = close.shape[0]
    state = np.full(n, np.nan)
    for i in range(n):
        if np.isnan(s[i]) or np.isnan(m[i]) or np.isnan(f[i]):
            continue
        if f[i] > m[i] > s[i]:
            state[i] = 1.0
        elif f[i] < m[i] < s[i]:
            state[i] = -1.0
        else:
            state[i] = 0.0
    return state_signals(state)


EMA_RIBBON = Strategy(
    id="ema_ribbon",
    name="Triple EMA alignment",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Holds long while three exponential averages are stacked bullishly (fast > "
        "middle > slow), short while stacked bearishly, and flat when they are "
        "tangled. Signals come on the bar the stacking changes."
    ),
    params=(
        Param("fast", int, 8, 2, 100, 1, "fast EMA span"),
        Param("middle", int, 21, 3, 200, 1, "middle EMA span"),
        Param("slow", int, 55, 4, 400, 1, "slow EMA span"),
    ),
    signal=ema_ribbon_signal,
    lookback=lambda p: int(p["slow"]) + 1,
    pine=(
        "f = ta.ema(close, fast)\nm = ta.ema(close, middle)\ns = ta.ema(close, slow)\n"
        "bull = f > m and m > s\nbear = f < m and m < s\n"
        "known = not na(s[1])\n"
        "longEntry = known and bull and not bull[1]\nshortEntry = known and bear and not bear[1]\n"
        "longExit = not bull and bull[1]\nshortExit = not bear and bear[1]\n"
    ),
    constraints=(("fast < middle < slow", lambda p: p["fast"] < p["middle"] < p["slow"]),),
    recursive=True,
)

MACD_PARAMS = (
    Param("fast", int, 12, 2, 100, 1, "fast EMA span"),
    Param("slow", int, 26, 3, 200, 1, "slow EMA span"),
    Param("signal", int, 9, 2, 50, 1, "signal line EMA span"),
)
MACD_PINE = "[macdLine, signalLine, hist] = ta.macd(close, fast, slow, signal)\n"


@njit(cache=True, nogil=True)
def macd_signal_signal(
    open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int, signal: int
) -> A:
    line, sig, _ = ind.macd(close, fast, slow, signal)
    return crossover_signals(line, sig)


@njit(cache=True, nogil=True)
def macd_zero_signal(
    open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int, signal: int
) -> A:
    line, _, _ = ind.macd(close, fast, slow, signal)
    return crossover_signals(line, np.zeros(close.shape[0]))


@njit(cache=True, nogil=True)
def macd_histogram_signal(
    open_: A, high: A, low: A, close: A, volume: A, fast: int, slow: int, signal: int, turn: int
) -> A:
    _, _, hist = ind.macd(close, fast, slow, signal)
    n = close.shape[0]
    state = np.full(n, np.nan)
    for i in range(turn, n):
        rising = True
        falling = True
        for j in range(i - turn + 1, i + 1):
            if np.isnan(hist[j - 1]) or np.isnan(hist[j]):
                rising = False
                falling = False
                break
            rising = rising and hist[j] > hist[j - 1]
            falling = falling and hist[j] < hist[j - 1]
        if rising and hist[i] < 0:
            state[i] = 1.0
        elif falling and hist[i] > 0:
            state[i] = -1.0
        elif not np.isnan(hist[i - turn]):
            state[i] = 0.0
    out = state_signals(state)
    for i in range(n):  # only the turns are entries; leaving a turn is no exit
        if out[i] == 0:
            out[i] = HOLD
    return out


MACD_SIGNAL = Strategy(
    id="macd_signal",
    name="MACD signal-line cross",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Goes long when the MACD line (fast EMA minus slow EMA of the close) crosses "
        "above its signal line and leaves when it crosses below."
    ),
    params=MACD_PARAMS,
    signal=macd_signal_signal,
    lookback=lambda p: int(p["slow"]) + int(p["signal"]) + 1,
    pine=MACD_PINE + "longEntry = ta.crossover(macdLine, signalLine)\n"
    "shortEntry = ta.crossunder(macdLine, signalLine)\n",
    constraints=FAST_BELOW_SLOW,
    recursive=True,
)
MACD_ZERO = Strategy(
    id="macd_zero",
    name="MACD zero-line cross",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Goes long when the MACD line crosses above zero (the fast EMA overtakes the "
        "slow one) and leaves when it crosses below zero. Slower than the signal-line "
        "cross, with fewer trades."
    ),
    params=MACD_PARAMS,
    signal=macd_zero_signal,
    lookback=lambda p: int(p["slow"]) + 1,
    pine=MACD_PINE
    + "longEntry = ta.crossover(macdLine, 0)\nshortEntry = ta.crossunder(macdLine, 0)\n",
    constraints=FAST_BELOW_SLOW,
    recursive=True,
)
MACD_HISTOGRAM = Strategy(
    id="macd_histogram",
    name="MACD histogram turn",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Anticipates the signal-line cross: goes long when the MACD histogram is "
        "still below zero but has risen for `turn` bars in a row, short when it is "
        "above zero and has fallen for `turn` bars. Positions reverse on the "
        "opposite turn."
    ),
    params=(*MACD_PARAMS, Param("turn", int, 2, 1, 10, 1, "consecutive bars of rise or fall")),
    signal=macd_histogram_signal,
    lookback=lambda p: int(p["slow"]) + int(p["signal"]) + int(p["turn"]),
    pine=MACD_PINE + "rising = hist < 0\nfalling = hist > 0\n"
    "for k = 0 to turn - 1\n"
    "    rising := rising and hist[k] > hist[k + 1]\n"
    "    falling := falling and hist[k] < hist[k + 1]\n"
    "longEntry = rising and not rising[1]\nshortEntry = falling and not falling[1]\n",
    constraints=FAST_BELOW_SLOW,
    recursive=True,
)


@njit(cache=True, nogil=True)
def adx_di_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, threshold: float
) -> A:
    strength, plus, minus = ind.adx(high, low, close, window)
    out = crossover_signals(plus, minus)
    for i in range(close.shape[0]):
        if np.isnan(strength[i]) or strength[i] < threshold:
            out[i] = HOLD
    return out


@njit(cache=True, nogil=True)
def adx_trend_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, enter: float, leave: float
) -> A:
    strength, plus, minus = ind.adx(high, low, close, window)
    n = close.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(1, n):
        a0, a1 = strength[i - 1], strength[i]
        if np.isnan(a0) or np.isnan(a1):
            continue
        if a0 <= enter < a1:
            out[i] = 1 if plus[i] > minus[i] else -1
        elif a0 >= leave > a1:
            out[i] = 0
    return out


ADX_DI = Strategy(
    id="adx_di",
    name="DI crossover with ADX filter",
    family=Family.TREND,
    direction=Direction.BOTH,
    description=(
        "Wilder's directional system: long when +DI crosses above -DI, short when it "
        "crosses below, but only while the ADX shows a trend (at or above "
        "`threshold`); crosses in a trendless market are ignored."
    ),
    params=(
        Param("window", int, 14, 2, 100, 1, "Wilder smoothing window"),
        Param("threshold", float, 20.0, 0.0, 60.0, 1.0, "minimum ADX to act"),
    ),
    signal=adx_di_signal,
    lookback=lambda p: 2 * int(p["window"]) + 1,
    pine=(
        "[diPlus, diMinus, adxValue] = ta.dmi(window, window)\n"
        "longEntry = ta.crossover(diPlus, diMinus) and adxValue >= threshold\n"
        "shortEntry = ta.crossunder(diPlus, diMinus) and adxValue >= threshold\n"
    ),
    recursive=True,
)
ADX_TREND = Strategy(
    id="adx_trend",
    name="ADX trend strength",
    family=Family.TREND,
    direction=Direction.BOTH,
    description=(
        "Enters when a trend is born: when the ADX rises through `enter`, long if +DI "
        "is above -DI, short otherwise. Leaves when the ADX falls back through "
        "`leave`, the trend spent."
    ),
    params=(
        Param("window", int, 14, 2, 100, 1, "Wilder smoothing window"),
        Param("enter", float, 25.0, 5.0, 60.0, 1.0, "ADX level that starts a trade"),
        Param("leave", float, 20.0, 5.0, 60.0, 1.0, "ADX level that ends it"),
    ),
    signal=adx_trend_signal,
    lookback=lambda p: 2 * int(p["window"]) + 1,
    pine=(
        "[diPlus, diMinus, adxValue] = ta.dmi(window, window)\n"
        "born = ta.crossover(adxValue, enter)\n"
        "longEntry = born and diPlus > diMinus\nshortEntry = born and diPlus <= diMinus\n"
        "longExit = ta.crossunder(adxValue, leave)\nshortExit = longExit\n"
    ),
    constraints=(("leave <= enter", lambda p: p["leave"] <= p["enter"]),),
    recursive=True,
)


@njit(cache=True, nogil=True)
def aroon_cross_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    up, down = ind.aroon(high, low, window)
    return crossover_signals(up, down)


@njit(cache=True, nogil=True)
def aroon_oscillator_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, level: float
) -> A:
    up, down = ind.aroon(high, low, window)
    return thrust_signals(up - down, level)


# ind.aroon: bars since the window's extreme, ties going to the most recent bar.
AROON_PINE = """barsSinceHigh(n) =>
    int at = 0
    for j = 1 to n
        if high[j] > high[at]
            at := j
    at
barsSinceLow(n) =>
    int at = 0
    for j = 1 to n
        if low[j] < low[at]
            at := j
    at
sinceHigh = barsSinceHigh(window)
sinceLow = barsSinceLow(window)
up = bar_index < window ? na : 100 * (window - sinceHigh) / window
dn = bar_index < window ? na : 100 * (window - sinceLow) / window
"""

AROON_CROSS = Strategy(
    id="aroon_cross",
    name="Aroon crossover",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Aroon up measures how recently the highest high of the window was made, "
        "Aroon down the lowest low. Long when Aroon up crosses above Aroon down "
        "(new highs are more recent than new lows), out or short on the reverse."
    ),
    params=(Param("window", int, 25, 2, 200, 1, "look-back for the extremes"),),
    signal=aroon_cross_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        AROON_PINE
        + "longEntry = up > dn and up[1] < dn[1]\nshortEntry = up < dn and up[1] > dn[1]\n"
    ),
)
AROON_OSCILLATOR = Strategy(
    id="aroon_oscillator",
    name="Aroon oscillator",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "The Aroon oscillator (up minus down) runs from -100 to 100. Long when it "
        "rises through +`level`, short when it falls through -`level`; a long exits "
        "when it turns negative, a short when it turns positive."
    ),
    params=(
        Param("window", int, 25, 2, 200, 1, "look-back for the extremes"),
        Param("level", float, 50.0, 0.0, 95.0, 5.0, "oscillator level to cross"),
    ),
    signal=aroon_oscillator_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        AROON_PINE + "osc = up - dn\n"
        "longEntry = ta.crossover(osc, level)\nshortEntry = ta.crossunder(osc, -level)\n"
        "longExit = ta.crossunder(osc, 0)\nshortExit = ta.crossover(osc, 0)\n"
    ),
)


@njit(cache=True, nogil=True)
def parabolic_sar_signal(
    open_: A, high: A, low: A, close: A, volume: A, af_start: float, af_step: float, af_max: float
) -> A:
    sar = ind.parabolic_sar(high, low, af_start, af_step, af_max)
    n = close.shape[0]
    state = np.full(n, np.nan)
    for i in range(n):
        if not np.isnan(sar[i]):
            state[i] = 1.0 if close[i] > sar[i] else -1.0
    return state_signals(state)


# ind.parabolic_sar is TA-Lib's SAR; Pine's ta.sar starts its first trend from the
# closes and flips on a strict penetration, so the body carries its own.
SAR_PINE = """taLibSar(afStart, afStep, afMax) =>
    var bool up = true
    var float ep = na
    var float next = na
    var float af = na
    float sar = na
    if bar_index == 1
        dm = low[1] - low
        up := not (dm > 0 and dm > high - high[1])
        ep := up ? high : low
        next := up ? low[1] : high[1]
        af := afStart
    if bar_index >= 1
        if up
            if low <= next
                up := false
                sar := math.max(ep, high[1], high)
                af := afStart
                ep := low
                next := math.max(sar + af * (ep - sar), high[1], high)
            else
                sar := next
                if high > ep
                    ep := high
                    af := math.min(af + afStep, afMax)
                next := math.min(next + af * (ep - next), low[1], low)
        else
            if high >= next
                up := true
                sar := math.min(ep, low[1], low)
                af := afStart
                ep := high
                next := math.min(sar + af * (ep - sar), low[1], low)
            else
                sar := next
                if low < ep
                    ep := low
                    af := math.min(af + afStep, afMax)
                next := math.max(next + af * (ep - next), high[1], high)
    sar
"""

PARABOLIC_SAR = Strategy(
    id="parabolic_sar",
    name="Parabolic SAR",
    family=Family.TREND,
    direction=Direction.BOTH,
    description=(
        "Wilder's stop-and-reverse: the SAR trails price, accelerating as the trend "
        "makes new extremes. Long when the close moves above the SAR, short when it "
        "moves below; always in the market once started."
    ),
    params=(
        Param("af_start", float, 0.02, 0.005, 0.1, 0.005, "initial acceleration factor"),
        Param("af_step", float, 0.02, 0.005, 0.1, 0.005, "acceleration increment"),
        Param("af_max", float, 0.2, 0.05, 0.5, 0.05, "maximum acceleration"),
    ),
    signal=parabolic_sar_signal,
    lookback=lambda p: 3,
    pine=(
        SAR_PINE + "sar = taLibSar(af_start, af_step, af_max)\n"
        "longEntry = close > sar and close[1] <= sar[1]\n"
        "shortEntry = close < sar and close[1] >= sar[1]\n"
    ),
    constraints=(("af_start <= af_max", lambda p: p["af_start"] <= p["af_max"]),),
    recursive=True,
)


@njit(cache=True, nogil=True)
def supertrend_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, multiplier: float
) -> A:
    _, direction = ind.supertrend(high, low, close, window, multiplier)
    return state_signals(direction)


# ind.supertrend starts up on the first ATR bar and compares the close with the
# previous final bands; Pine's ta.supertrend starts down and compares with this
# bar's, so the body carries its own (dir is +1 up, -1 down, as the kernel's).
SUPERTREND_PINE = """a = wilderAtr(window)
var float upper = na
var float lower = na
var int trend = 1
if not na(a)
    bu = hl2 + multiplier * a
    bl = hl2 - multiplier * a
    if na(upper)
        upper := bu
        lower := bl
    else
        pu = upper
        pl = lower
        upper := bu < pu or close[1] > pu ? bu : pu
        lower := bl > pl or close[1] < pl ? bl : pl
        trend := close > pu ? 1 : close < pl ? -1 : trend
dir = na(a) ? na : trend
"""

SUPERTREND = Strategy(
    id="supertrend",
    name="SuperTrend",
    family=Family.TREND,
    direction=Direction.BOTH,
    description=(
        "An ATR band around the bar's midpoint that only ratchets in the trend's "
        "favour. Long when the close breaks above the upper band, short when it "
        "breaks below the lower band; the position flips with the trend."
    ),
    params=(
        Param("window", int, 10, 2, 100, 1, "ATR window"),
        Param("multiplier", float, 3.0, 0.5, 10.0, 0.5, "ATR multiple for the bands"),
    ),
    signal=supertrend_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        ATR_PINE
        + SUPERTREND_PINE
        + "longEntry = dir == 1 and dir[1] == -1\nshortEntry = dir == -1 and dir[1] == 1\n"
    ),
    recursive=True,
)


@njit(cache=True, nogil=True)
def ichimoku_signal(
    open_: A, high: A, low: A, close: A, volume: A,
    conversion: int, base: int, span_b: int, displacement: int,
) -> A:  # fmt: skip
    tenkan, kijun, a, b = ind.ichimoku(high, low, conversion, base, span_b, displacement)
    out = crossover_signals(tenkan, kijun)
    for i in range(close.shape[0]):
        if out[i] == HOLD:
            continue
        if np.isnan(a[i]) or np.isnan(b[i]):
            out[i] = HOLD
        elif out[i] == 1 and close[i] <= max(a[i], b[i]):
            out[i] = EXIT_SHORT  # a bullish cross below the cloud only closes shorts
        elif out[i] == -1 and close[i] >= min(a[i], b[i]):
            out[i] = EXIT_LONG
    return out


ICHIMOKU = Strategy(
    id="ichimoku",
    name="Ichimoku cloud",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Tenkan (conversion line) crossing above kijun (base line) with the close "
        "above the cloud goes long; crossing below with the close under the cloud "
        "goes short. A cross on the wrong side of the cloud only closes the "
        "opposite position."
    ),
    params=(
        Param("conversion", int, 9, 2, 50, 1, "tenkan window"),
        Param("base", int, 26, 5, 100, 1, "kijun window"),
        Param("span_b", int, 52, 10, 200, 1, "senkou span B window"),
        Param("displacement", int, 26, 1, 100, 1, "bars the cloud is shifted forward"),
    ),
    signal=ichimoku_signal,
    lookback=lambda p: int(p["displacement"]) + max(int(p["base"]), int(p["span_b"])) + 1,
    pine=(
        "mid(n) => math.avg(ta.highest(high, n), ta.lowest(low, n))\n"
        "tenkan = mid(conversion)\nkijun = mid(base)\n"
        "spanA = math.avg(tenkan, kijun)[displacement]\nspanB = mid(span_b)[displacement]\n"
        "bullCross = tenkan > kijun and tenkan[1] < kijun[1]\n"
        "bearCross = tenkan < kijun and tenkan[1] > kijun[1]\n"
        "longEntry = bullCross and close > math.max(spanA, spanB)\n"
        "shortEntry = bearCross and close < math.min(spanA, spanB)\n"
        "longExit = bearCross\nshortExit = bullCross\n"
    ),
    constraints=(("conversion < base", lambda p: p["conversion"] < p["base"]),),
)


@njit(cache=True, nogil=True)
def vortex_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    plus, minus = ind.vortex(high, low, close, window)
    return crossover_signals(plus, minus)


VORTEX = Strategy(
    id="vortex",
    name="Vortex crossover",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "The vortex indicator compares upward movement (today's high against "
        "yesterday's low) with downward movement over a window. Long when VI+ "
        "crosses above VI-, out or short on the reverse cross."
    ),
    params=(Param("window", int, 14, 2, 100, 1, "summing window"),),
    signal=vortex_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        "vmp = math.sum(math.abs(high - low[1]), window)\n"
        "vmm = math.sum(math.abs(low - high[1]), window)\n"
        "trs = math.sum(ta.tr(true), window)\n"
        "viPlus = vmp / trs\nviMinus = vmm / trs\n"
        "longEntry = viPlus > viMinus and viPlus[1] < viMinus[1]\n"
        "shortEntry = viPlus < viMinus and viPlus[1] > viMinus[1]\n"
    ),
)


@njit(cache=True, nogil=True)
def trix_signal_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, signal: int
) -> A:
    line = ind.trix(close, window)
    return crossover_signals(line, ind._sma_tail(line, signal))


@njit(cache=True, nogil=True)
def trix_zero_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    return crossover_signals(ind.trix(close, window), np.zeros(close.shape[0]))


TRIX_SIGNAL = Strategy(
    id="trix_signal",
    name="TRIX signal-line cross",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "TRIX is the one-bar rate of change of a triple-smoothed EMA, which filters "
        "out short cycles. Long when it crosses above its moving-average signal "
        "line, out or short when it crosses below."
    ),
    params=(
        Param("window", int, 15, 2, 100, 1, "EMA span, applied three times"),
        Param("signal", int, 9, 2, 50, 1, "bars in the signal line"),
    ),
    signal=trix_signal_signal,
    lookback=lambda p: 3 * int(p["window"]) + int(p["signal"]),
    pine=(
        "trixLine = 100 * ta.roc(ta.ema(ta.ema(ta.ema(close, window), window), window), 1) / 100\n"
        "sig = ta.sma(trixLine, signal)\n"
        "longEntry = trixLine > sig and trixLine[1] < sig[1]\n"
        "shortEntry = trixLine < sig and trixLine[1] > sig[1]\n"
    ),
    recursive=True,
)
TRIX_ZERO = Strategy(
    id="trix_zero",
    name="TRIX zero-line cross",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Long when TRIX (the rate of change of a triple-smoothed EMA) crosses above "
        "zero, i.e. the smoothed trend turns up; out or short when it turns down."
    ),
    params=(Param("window", int, 15, 2, 100, 1, "EMA span, applied three times"),),
    signal=trix_zero_signal,
    lookback=lambda p: 3 * int(p["window"]) + 1,
    pine=(
        "trixLine = ta.roc(ta.ema(ta.ema(ta.ema(close, window), window), window), 1)\n"
        "longEntry = trixLine > 0 and trixLine[1] < 0\n"
        "shortEntry = trixLine < 0 and trixLine[1] > 0\n"
    ),
    recursive=True,
)


@njit(cache=True, nogil=True)
def tsmom_signal(open_: A, high: A, low: A, close: A, volume: A, window: int) -> A:
    change = ind.roc(close, window)
    n = close.shape[0]
    state = np.full(n, np.nan)
    for i in range(n):
        if not np.isnan(change[i]):
            state[i] = 1.0 if change[i] > 0 else (-1.0 if change[i] < 0 else 0.0)
    return state_signals(state)


@njit(cache=True, nogil=True)
def roc_momentum_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, threshold: float
) -> A:
    return thrust_signals(ind.roc(close, window), threshold)


TSMOM = Strategy(
    id="tsmom",
    name="Time-series momentum",
    family=Family.TREND,
    direction=Direction.BOTH,
    description=(
        "Moskowitz, Ooi and Pedersen's time-series momentum: hold long while the "
        "return over the look-back window is positive and short while it is "
        "negative, switching on the bar the sign changes."
    ),
    params=(Param("window", int, 120, 5, 500, 5, "look-back in bars"),),
    signal=tsmom_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        "mom = close / close[window] - 1\n"
        "longEntry = mom > 0 and mom[1] <= 0\nshortEntry = mom < 0 and mom[1] >= 0\n"
    ),
)
ROC_MOMENTUM = Strategy(
    id="roc_momentum",
    name="Rate-of-change thrust",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Enters on a momentum thrust: long when the percent change over the window "
        "rises through +`threshold`, short when it falls through -`threshold`. A "
        "long exits when the change turns negative, a short when it turns positive."
    ),
    params=(
        Param("window", int, 20, 2, 250, 1, "look-back in bars"),
        Param("threshold", float, 5.0, 0.0, 50.0, 0.5, "percent change that triggers"),
    ),
    signal=roc_momentum_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        "r = ta.roc(close, window)\n"
        "longEntry = ta.crossover(r, threshold)\nshortEntry = ta.crossunder(r, -threshold)\n"
        "longExit = ta.crossunder(r, 0)\nshortExit = ta.crossover(r, 0)\n"
    ),
)


@njit(cache=True, nogil=True)
def cci_trend_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, level: float
) -> A:
    return thrust_signals(ind.cci(high, low, close, window), level)


CCI_TREND = Strategy(
    id="cci_trend",
    name="CCI breakout",
    family=Family.TREND,
    direction=Direction.LONG,
    description=(
        "Lambert's original use of the commodity channel index: a move above "
        "+`level` starts an uptrend (long), below -`level` a downtrend (short). A "
        "long exits when the CCI falls back below zero, a short when it rises above."
    ),
    params=(
        Param("window", int, 20, 2, 200, 1, "CCI window"),
        Param("level", float, 100.0, 25.0, 300.0, 25.0, "CCI level that triggers"),
    ),
    signal=cci_trend_signal,
    lookback=lambda p: int(p["window"]) + 1,
    pine=(
        "c = ta.cci(hlc3, window)\n"
        "longEntry = ta.crossover(c, level)\nshortEntry = ta.crossunder(c, -level)\n"
        "longExit = ta.crossunder(c, 0)\nshortExit = ta.crossover(c, 0)\n"
    ),
)

TREND = (
    SMA_CROSS, EMA_CROSS, WMA_CROSS, HMA_CROSS, DEMA_CROSS, TEMA_CROSS, PRICE_SMA_CROSS,
    KAMA_CROSS, EMA_RIBBON, MACD_SIGNAL, MACD_ZERO, MACD_HISTOGRAM, ADX_DI, ADX_TREND,
    AROON_CROSS, AROON_OSCILLATOR, PARABOLIC_SAR, SUPERTREND, ICHIMOKU, VORTEX, TRIX_SIGNAL,
    TRIX_ZERO, TSMOM, ROC_MOMENTUM, CCI_TREND,
)  # fmt: skip
