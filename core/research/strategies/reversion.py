"""Mean reversion: oscillators and bands that fade stretched prices."""

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
    constant,
    crosses_above,
    crosses_below,
    oscillator_signals,
    zone_crossover_signals,
)
from core.research.strategies.base import Direction, Family, Param, Strategy

A = np.ndarray
LOWER_BELOW_UPPER = (("lower < upper", lambda p: p["lower"] < p["upper"]),)
OSCILLATOR_PINE = (
    "longEntry = ta.crossunder(osc, lower)\nshortEntry = ta.crossover(osc, upper)\n"
    "longExit = ta.crossover(osc, exitLevel)\nshortExit = ta.crossunder(osc, exitLevel)\n"
)


def _levels(lower: float, upper: float, low: float, high: float, step: float) -> tuple[Param, ...]:
    return (
        Param("lower", float, lower, low, high, step, "oversold level: a long starts below it"),
        Param("upper", float, upper, low, high, step, "overbought level: a short starts above it"),
    )


def _oscillator(
    id_: str, name: str, what: str, params, kernel, lookback, pine_osc: str,
    exit_words: str, recursive: bool = False, constraints=LOWER_BELOW_UPPER,
) -> Strategy:  # fmt: skip
    return Strategy(
        id=id_,
        name=name,
        family=Family.MEAN_REVERSION,
        direction=Direction.LONG,
        description=(
            f"Fades extremes of {what}: long when it crosses below the oversold level, "
            f"short when it crosses above the overbought level. {exit_words}"
        ),
        params=params,
        signal=kernel,
        lookback=lookback,
        pine=pine_osc + OSCILLATOR_PINE,
        constraints=constraints,
        recursive=recursive,
    )


@njit(cache=True, nogil=True)
def rsi_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A,
    window: int, lower: float, upper: float, exit_level: float,
) -> A:  # fmt: skip
    return oscillator_signals(ind.rsi(close, window), lower, upper, exit_level)


RSI_REVERSION = _oscillator(
    "rsi_reversion", "RSI reversion", "Wilder's relative strength index",
    (Param("window", int, 14, 2, 100, 1, "RSI window"), *_levels(30.0, 70.0, 5.0, 95.0, 5.0),
     Param("exit_level", float, 50.0, 5.0, 95.0, 5.0, "RSI level that ends a trade")),
    rsi_reversion_signal, lambda p: int(p["window"]) + 2,
    "osc = ta.rsi(close, window)\nexitLevel = exit_level\n",
    "A long exits when the RSI crosses back above `exit_level`, a short when it "
    "crosses below.", recursive=True,
)  # fmt: skip


@njit(cache=True, nogil=True)
def connors_rsi2_signal(
    open_: A, high: A, low: A, close: A, volume: A,
    rsi_window: int, trend: int, exit_window: int, lower: float, upper: float,
) -> A:  # fmt: skip
    r = ind.rsi(close, rsi_window)
    long_term = ind.sma(close, trend)
    short_term = ind.sma(close, exit_window)
    n = close.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(n):
        if np.isnan(r[i]) or np.isnan(long_term[i]) or np.isnan(short_term[i]):
            continue
        if r[i] < lower and close[i] > long_term[i]:
            out[i] = LONG
        elif r[i] > upper and close[i] < long_term[i]:
            out[i] = SHORT
        elif close[i] > short_term[i]:
            out[i] = EXIT_LONG
        elif close[i] < short_term[i]:
            out[i] = EXIT_SHORT
    return out


CONNORS_RSI2 = Strategy(
    id="connors_rsi2",
    name="Connors RSI(2)",
    family=Family.MEAN_REVERSION,
    direction=Direction.LONG,
    description=(
        "Larry Connors' short-term pullback system: in an uptrend (close above its "
        "200-bar SMA) buy when the 2-bar RSI is below 10, and sell when the close "
        "rises above its 5-bar SMA. The short side mirrors it below the trend average."
    ),
    params=(
        Param("rsi_window", int, 2, 2, 10, 1, "RSI window"),
        Param("trend", int, 200, 20, 400, 10, "trend filter SMA"),
        Param("exit_window", int, 5, 2, 50, 1, "exit SMA"),
        *_levels(10.0, 90.0, 1.0, 99.0, 1.0),
    ),
    signal=connors_rsi2_signal,
    lookback=lambda p: max(int(p["trend"]), int(p["rsi_window"]) + 1),
    pine=(
        "r = ta.rsi(close, rsi_window)\ntrendMa = ta.sma(close, trend)\n"
        "exitMa = ta.sma(close, exit_window)\n"
        "longEntry = r < lower and close > trendMa\nshortEntry = r > upper and close < trendMa\n"
        "longExit = close > exitMa\nshortExit = close < exitMa\n"
    ),
    constraints=LOWER_BELOW_UPPER,
    recursive=True,
)


@njit(cache=True, nogil=True)
def connors_crsi_signal(
    open_: A, high: A, low: A, close: A, volume: A,
    rank_window: int, lower: float, upper: float, exit_level: float,
) -> A:  # fmt: skip
    return oscillator_signals(ind.connors_rsi(close, 3, 2, rank_window), lower, upper, exit_level)


CONNORS_CRSI = _oscillator(
    "connors_crsi", "ConnorsRSI",
    "ConnorsRSI (the mean of a 3-bar RSI, a 2-bar RSI of the up/down streak and the "
    "percent rank of today's change)",
    (Param("rank_window", int, 100, 10, 250, 10, "bars ranked for today's change"),
     *_levels(10.0, 90.0, 1.0, 99.0, 1.0),
     Param("exit_level", float, 50.0, 5.0, 95.0, 5.0, "level that ends a trade")),
    connors_crsi_signal, lambda p: int(p["rank_window"]) + 3,
    "var float streak = 0.0\n"
    "streak := close > close[1] ? math.max(streak, 0) + 1 : close < close[1] ? "
    "math.min(streak, 0) - 1 : 0\n"
    "rank = ta.percentrank(ta.roc(close, 1), rank_window)\n"
    "osc = (ta.rsi(close, 3) + ta.rsi(streak, 2) + rank) / 3\n"
    "exitLevel = exit_level\n",
    "A long exits when it crosses back above `exit_level`, a short below.", recursive=True,
)  # fmt: skip


@njit(cache=True, nogil=True)
def stochastic_cross_signal(
    open_: A, high: A, low: A, close: A, volume: A,
    k_window: int, d_window: int, lower: float, upper: float,
) -> A:  # fmt: skip
    k, d = ind.stochastic(high, low, close, k_window, d_window)
    return zone_crossover_signals(k, d, lower, upper)


STOCHASTIC_CROSS = Strategy(
    id="stochastic_cross",
    name="Stochastic crossover in the zones",
    family=Family.MEAN_REVERSION,
    direction=Direction.LONG,
    description=(
        "Lane's stochastic: long when %K crosses above %D while %D is oversold (below "
        "`lower`), short when %K crosses below %D while %D is overbought (above "
        "`upper`). Crosses in the middle of the range are ignored; each entry "
        "reverses the previous position."
    ),
    params=(
        Param("k_window", int, 14, 2, 100, 1, "%K window"),
        Param("d_window", int, 3, 2, 20, 1, "%D smoothing"),
        *_levels(20.0, 80.0, 5.0, 95.0, 5.0),
    ),
    signal=stochastic_cross_signal,
    lookback=lambda p: int(p["k_window"]) + int(p["d_window"]),
    pine=(
        "k = ta.stoch(close, high, low, k_window)\nd = ta.sma(k, d_window)\n"
        "longEntry = k > d and k[1] < d[1] and d < lower\n"
        "shortEntry = k < d and k[1] > d[1] and d > upper\n"
    ),
    constraints=LOWER_BELOW_UPPER,
)


@njit(cache=True, nogil=True)
def stochastic_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A,
    k_window: int, d_window: int, lower: float, upper: float,
) -> A:  # fmt: skip
    _, d = ind.stochastic(high, low, close, k_window, d_window)
    return oscillator_signals(d, lower, upper, 50.0)


STOCHASTIC_REVERSION = _oscillator(
    "stochastic_reversion", "Stochastic reversion", "the slow stochastic (%D)",
    (Param("k_window", int, 14, 2, 100, 1, "%K window"),
     Param("d_window", int, 3, 2, 20, 1, "%D smoothing"), *_levels(20.0, 80.0, 5.0, 95.0, 5.0)),
    stochastic_reversion_signal, lambda p: int(p["k_window"]) + int(p["d_window"]),
    "osc = ta.sma(ta.stoch(close, high, low, k_window), d_window)\nexitLevel = 50\n",
    "Trades exit when %D crosses back through 50.",
)  # fmt: skip


@njit(cache=True, nogil=True)
def stoch_rsi_signal(
    open_: A, high: A, low: A, close: A, volume: A,
    rsi_window: int, stoch_window: int, lower: float, upper: float,
) -> A:  # fmt: skip
    k, d = ind.stoch_rsi(close, rsi_window, stoch_window, 3, 3)
    return zone_crossover_signals(k, d, lower, upper)


STOCH_RSI = Strategy(
    id="stoch_rsi",
    name="Stochastic RSI",
    family=Family.MEAN_REVERSION,
    direction=Direction.LONG,
    description=(
        "The stochastic of the RSI (where the RSI sits in its own recent range), "
        "smoothed 3 and 3. Long when its K crosses above D below `lower`, short when "
        "K crosses below D above `upper`; each entry reverses the previous position."
    ),
    params=(
        Param("rsi_window", int, 14, 2, 100, 1, "RSI window"),
        Param("stoch_window", int, 14, 2, 100, 1, "stochastic window over the RSI"),
        *_levels(20.0, 80.0, 5.0, 95.0, 5.0),
    ),
    signal=stoch_rsi_signal,
    lookback=lambda p: int(p["rsi_window"]) + int(p["stoch_window"]) + 5,
    pine=(
        "r = ta.rsi(close, rsi_window)\n"
        "hi = ta.highest(r, stoch_window)\nlo = ta.lowest(r, stoch_window)\n"
        "raw = na(r[stoch_window - 1]) ? na : hi > lo ? 100 * (r - lo) / (hi - lo) : 50.0\n"
        "k = ta.sma(raw, 3)\n"
        "d = ta.sma(k, 3)\n"
        "longEntry = k > d and k[1] < d[1] and d < lower\n"
        "shortEntry = k < d and k[1] > d[1] and d > upper\n"
    ),
    constraints=LOWER_BELOW_UPPER,
    recursive=True,
)


@njit(cache=True, nogil=True)
def williams_r_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, lower: float, upper: float
) -> A:
    return oscillator_signals(ind.williams_r(high, low, close, window), lower, upper, -50.0)


WILLIAMS_R = _oscillator(
    "williams_r", "Williams %R reversion", "Williams %R (where the close sits in the "
    "window's range, 0 at the top, -100 at the bottom)",
    (Param("window", int, 14, 2, 100, 1, "look-back window"),
     *_levels(-80.0, -20.0, -95.0, -5.0, 5.0)),
    williams_r_signal, lambda p: int(p["window"]) + 1,
    "osc = ta.wpr(window)\nexitLevel = -50\n", "Trades exit when %R crosses back through -50.",
)  # fmt: skip


@njit(cache=True, nogil=True)
def cci_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, level: float
) -> A:
    return oscillator_signals(ind.cci(high, low, close, window), -level, level, 0.0)


CCI_REVERSION = _oscillator(
    "cci_reversion", "CCI reversion", "the commodity channel index",
    (Param("window", int, 20, 2, 200, 1, "CCI window"),
     Param("level", float, 100.0, 25.0, 300.0, 25.0, "oversold at -level, overbought at +level")),
    cci_reversion_signal, lambda p: int(p["window"]) + 1,
    "osc = ta.cci(hlc3, window)\nlower = -level\nupper = level\nexitLevel = 0\n",
    "Trades exit when the CCI crosses back through zero.", constraints=(),
)  # fmt: skip


@njit(cache=True, nogil=True)
def mfi_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, lower: float, upper: float
) -> A:
    return oscillator_signals(ind.mfi(high, low, close, volume, window), lower, upper, 50.0)


MFI_REVERSION = _oscillator(
    "mfi_reversion", "Money flow index reversion",
    "the money flow index (a volume-weighted RSI of the typical price)",
    (Param("window", int, 14, 2, 100, 1, "MFI window"), *_levels(20.0, 80.0, 5.0, 95.0, 5.0)),
    mfi_reversion_signal, lambda p: int(p["window"]) + 2,
    "osc = ta.mfi(hlc3, window)\nexitLevel = 50\n",
    "Trades exit when the MFI crosses back through 50.",
)  # fmt: skip


@njit(cache=True, nogil=True)
def cmo_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, level: float
) -> A:
    return oscillator_signals(ind.cmo(close, window), -level, level, 0.0)


CMO_REVERSION = _oscillator(
    "cmo_reversion", "Chande momentum reversion", "Chande's momentum oscillator",
    (Param("window", int, 14, 2, 100, 1, "CMO window"),
     Param("level", float, 50.0, 10.0, 90.0, 5.0, "oversold at -level, overbought at +level")),
    cmo_reversion_signal, lambda p: int(p["window"]) + 2,
    "osc = ta.cmo(close, window)\nlower = -level\nupper = level\nexitLevel = 0\n",
    "Trades exit when the CMO crosses back through zero.", constraints=(),
)  # fmt: skip


@njit(cache=True, nogil=True)
def ultimate_oscillator_signal(
    open_: A, high: A, low: A, close: A, volume: A,
    short: int, medium: int, long: int, lower: float, upper: float,
) -> A:  # fmt: skip
    value = ind.ultimate_oscillator(high, low, close, short, medium, long)
    return oscillator_signals(value, lower, upper, 50.0)


# Pine has no ta.uo: the buying-pressure averages as ind.ultimate_oscillator has them.
UO_PINE = """buyingPressure = close - math.min(low, close[1])
trueRange = math.max(high, close[1]) - math.min(low, close[1])
uoAverage(n) =>
    pressure = math.sum(buyingPressure, n)
    ranges = math.sum(trueRange, n)
    na(ranges) ? na : ranges > 0 ? pressure / ranges : 0.5
"""
ULTIMATE_OSCILLATOR = _oscillator(
    "ultimate_oscillator", "Ultimate oscillator reversion",
    "Williams' ultimate oscillator (buying pressure over three windows, weighted 4:2:1)",
    (Param("short", int, 7, 2, 50, 1, "short window"),
     Param("medium", int, 14, 3, 100, 1, "medium window"),
     Param("long", int, 28, 4, 200, 1, "long window"), *_levels(30.0, 70.0, 5.0, 95.0, 5.0)),
    ultimate_oscillator_signal, lambda p: int(p["long"]) + 2,
    UO_PINE + "osc = 100 * (4 * uoAverage(short) + 2 * uoAverage(medium) + uoAverage(long)) / 7\n"
    "exitLevel = 50\n",
    "Trades exit when it crosses back through 50.",
    constraints=(*LOWER_BELOW_UPPER,
                 ("short < medium < long", lambda p: p["short"] < p["medium"] < p["long"])),
)  # fmt: skip


@njit(cache=True, nogil=True)
def fisher_cross_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, level: float
) -> A:
    fisher, trigger = ind.fisher_transform(high, low, window)
    return zone_crossover_signals(fisher, trigger, -level, level)


FISHER_CROSS = Strategy(
    id="fisher_cross",
    name="Fisher transform turn",
    family=Family.MEAN_REVERSION,
    direction=Direction.LONG,
    description=(
        "Ehlers' Fisher transform makes turning points sharp. Long when the Fisher "
        "line crosses above its trigger (its own previous value) while below "
        "-`level`, short when it crosses below while above +`level`; each entry "
        "reverses the previous position."
    ),
    params=(
        Param("window", int, 10, 2, 100, 1, "range window"),
        Param("level", float, 1.0, 0.0, 3.0, 0.25, "extreme zone boundary"),
    ),
    signal=fisher_cross_signal,
    lookback=lambda p: int(p["window"]) + 2,
    pine=(
        "mid = hl2\nhh = ta.highest(mid, window)\nll = ta.lowest(mid, window)\n"
        "var float v = 0.0\nvar float fishSum = 0.0\nfloat fish = na\n"
        "if not na(hh)\n"
        "    x = hh == ll ? 0.0 : 2 * ((mid - ll) / (hh - ll) - 0.5)\n"
        "    v := math.max(math.min(0.33 * x + 0.67 * v, 0.999), -0.999)\n"
        "    fishSum := 0.5 * math.log((1 + v) / (1 - v)) + 0.5 * fishSum\n"
        "    fish := fishSum\n"
        "trig = fish[1]\n"
        "longEntry = fish > trig and fish[1] < trig[1] and trig < -level\n"
        "shortEntry = fish < trig and fish[1] > trig[1] and trig > level\n"
    ),
    recursive=True,
)


@njit(cache=True, nogil=True)
def zscore_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, entry: float, exit_at: float
) -> A:
    z = ind.zscore(close, window)
    deep_low, deep_high = constant(z, -entry), constant(z, entry)
    calm_low, calm_high = constant(z, -exit_at), constant(z, exit_at)
    n = close.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(1, n):
        if crosses_below(z, deep_low, i):
            out[i] = LONG
        elif crosses_above(z, deep_high, i):
            out[i] = SHORT
        elif crosses_above(z, calm_low, i):
            out[i] = EXIT_LONG
        elif crosses_below(z, calm_high, i):
            out[i] = EXIT_SHORT
    return out


ZSCORE_REVERSION = Strategy(
    id="zscore_reversion",
    name="Z-score reversion",
    family=Family.MEAN_REVERSION,
    direction=Direction.LONG,
    description=(
        "Trades the close's z-score (distance from its moving average in standard "
        "deviations): long when it falls through -`entry`, short when it rises "
        "through +`entry`. Unlike a band touch that waits for the average, a trade "
        "exits as soon as the stretch has mostly gone: a long when the z-score "
        "rises back through -`exit_at`, a short when it falls through +`exit_at`."
    ),
    params=(
        Param("window", int, 20, 5, 200, 1, "mean and deviation window"),
        Param("entry", float, 2.0, 0.5, 4.0, 0.25, "z-score that starts a trade"),
        Param("exit_at", float, 0.5, 0.0, 2.0, 0.25, "z-score inside which a trade ends"),
    ),
    signal=zscore_reversion_signal,
    lookback=lambda p: int(p["window"]) + 1,
    pine=(
        "z = (close - ta.sma(close, window)) / ta.stdev(close, window)\n"
        "longEntry = ta.crossunder(z, -entry)\nshortEntry = ta.crossover(z, entry)\n"
        "longExit = ta.crossover(z, -exit_at)\nshortExit = ta.crossunder(z, exit_at)\n"
    ),
    constraints=(("exit_at < entry", lambda p: p["exit_at"] < p["entry"]),),
)


@njit(cache=True, nogil=True)
def ibs_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, lower: float, upper: float
) -> A:
    strength = ind.ibs(high, low, close)
    n = close.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(n):
        if strength[i] < lower:
            out[i] = LONG
        elif strength[i] > upper:
            out[i] = SHORT
    return out


IBS_REVERSION = Strategy(
    id="ibs_reversion",
    name="Internal bar strength",
    family=Family.MEAN_REVERSION,
    direction=Direction.LONG,
    description=(
        "Internal bar strength is where the close sits in the bar's range (0 at the "
        "low, 1 at the high). A close near the low (IBS below `lower`) tends to be "
        "followed by a rise: go long; a close near the high (above `upper`) ends "
        "the long, or goes short."
    ),
    params=_levels(0.2, 0.8, 0.05, 0.95, 0.05),
    signal=ibs_reversion_signal,
    lookback=lambda p: 1,
    pine=(
        "ibs = high == low ? 0.5 : (close - low) / (high - low)\n"
        "longEntry = ibs < lower\nshortEntry = ibs > upper\n"
    ),
    constraints=LOWER_BELOW_UPPER,
)


@njit(cache=True, nogil=True)
def streak_reversion_signal(open_: A, high: A, low: A, close: A, volume: A, length: int) -> A:
    run = ind.streak(close)
    n = close.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(length, n):
        if run[i] <= -length:
            out[i] = LONG
        elif run[i] >= length:
            out[i] = SHORT
        elif run[i] == 1:
            out[i] = EXIT_LONG
        elif run[i] == -1:
            out[i] = EXIT_SHORT
    return out


STREAK_REVERSION = Strategy(
    id="streak_reversion",
    name="Down-streak reversion",
    family=Family.MEAN_REVERSION,
    direction=Direction.LONG,
    description=(
        "After `length` lower closes in a row, buy; sell on the first higher close. "
        "The short side fades `length` higher closes and covers on the first lower "
        "close."
    ),
    params=(Param("length", int, 3, 2, 10, 1, "closes in a row"),),
    signal=streak_reversion_signal,
    lookback=lambda p: int(p["length"]) + 1,
    pine=(
        "downs = ta.barssince(close >= close[1])\nups = ta.barssince(close <= close[1])\n"
        "longEntry = downs >= length\nshortEntry = ups >= length\n"
        "longExit = ups == 1\nshortExit = downs == 1\n"
    ),
)

REVERSION = (
    RSI_REVERSION, CONNORS_RSI2, CONNORS_CRSI, STOCHASTIC_CROSS, STOCHASTIC_REVERSION, STOCH_RSI,
    WILLIAMS_R, CCI_REVERSION, MFI_REVERSION, CMO_REVERSION, ULTIMATE_OSCILLATOR, FISHER_CROSS,
    ZSCORE_REVERSION, IBS_REVERSION, STREAK_REVERSION,
)  # fmt: skip
