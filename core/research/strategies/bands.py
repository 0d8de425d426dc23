"""Band rules: the same bands traded two ways, fading a touch (mean reversion) or
following a break (volatility/breakout). Either way a trade exits when the close
crosses back through the middle line."""

from __future__ import annotations

import numpy as np
from numba import njit

from core.research import indicators as ind
from core.research.signals import band_signals
from core.research.strategies.base import ATR_PINE, Direction, Family, Param, Strategy

A = np.ndarray
REVERSION_PINE = (
    "longEntry = ta.crossunder(close, lowerBand)\nshortEntry = ta.crossover(close, upperBand)\n"
    "longExit = ta.crossover(close, middle)\nshortExit = ta.crossunder(close, middle)\n"
)
BREAKOUT_PINE = (
    "longEntry = ta.crossover(close, upperBand)\nshortEntry = ta.crossunder(close, lowerBand)\n"
    "longExit = ta.crossunder(close, middle)\nshortExit = ta.crossover(close, middle)\n"
)
BOLLINGER_PARAMS = (
    Param("window", int, 20, 5, 200, 1, "average and deviation window"),
    Param("k", float, 2.0, 0.5, 4.0, 0.25, "band width in standard deviations"),
)
KELTNER_PARAMS = (
    Param("window", int, 20, 5, 200, 1, "EMA span of the middle line"),
    Param("atr_window", int, 10, 2, 100, 1, "ATR window"),
    Param("k", float, 2.0, 0.5, 5.0, 0.25, "band width in ATRs"),
)
BOLLINGER_PINE = "[middle, upperBand, lowerBand] = ta.bb(close, window, k)\n"
KELTNER_PINE = (
    ATR_PINE + "middle = ta.ema(close, window)\natr = wilderAtr(atr_window)\n"
    "upperBand = middle + k * atr\nlowerBand = middle - k * atr\n"
)


def _band_strategy(
    id_: str, name: str, what: str, reversion: bool, params, kernel, lookback,
    pine_bands: str, recursive: bool = False,
) -> Strategy:  # fmt: skip
    if reversion:
        rule = (
            f"Fades moves outside {what}: long when the close crosses below the lower "
            "band, short when it crosses above the upper band"
        )
    else:
        rule = (
            f"Rides volatility expansions out of {what}: long when the close crosses "
            "above the upper band, short when it crosses below the lower band"
        )
    return Strategy(
        id=id_,
        name=name,
        family=Family.MEAN_REVERSION if reversion else Family.BREAKOUT,
        direction=Direction.LONG,
        description=rule + "; a trade exits when the close crosses back through the middle.",
        params=params,
        signal=kernel,
        lookback=lookback,
        pine=pine_bands + (REVERSION_PINE if reversion else BREAKOUT_PINE),
        recursive=recursive,
    )


def _ma_atr_lookback(p) -> int:
    return max(int(p["window"]), int(p["atr_window"]) + 1) + 1


@njit(cache=True, nogil=True)
def bollinger_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, k: float
) -> A:
    mid, upper, lower = ind.bollinger(close, window, k)
    return band_signals(close, lower, upper, mid, True)


@njit(cache=True, nogil=True)
def bollinger_breakout_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, k: float
) -> A:
    mid, upper, lower = ind.bollinger(close, window, k)
    return band_signals(close, lower, upper, mid, False)


@njit(cache=True, nogil=True)
def keltner_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, atr_window: int, k: float
) -> A:
    mid, upper, lower = ind.keltner(high, low, close, window, atr_window, k)
    return band_signals(close, lower, upper, mid, True)


@njit(cache=True, nogil=True)
def keltner_breakout_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, atr_window: int, k: float
) -> A:
    mid, upper, lower = ind.keltner(high, low, close, window, atr_window, k)
    return band_signals(close, lower, upper, mid, False)


@njit(cache=True, nogil=True)
def envelope_reversion_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, percent: float
) -> A:
    mid = ind.sma(close, window)
    return band_signals(close, mid * (1 - percent / 100), mid * (1 + percent / 100), mid, True)


@njit(cache=True, nogil=True)
def atr_channel_signal(
    open_: A, high: A, low: A, close: A, volume: A, window: int, atr_window: int, k: float
) -> A:
    mid = ind.sma(close, window)
    width = k * ind.atr(high, low, close, atr_window)
    return band_signals(close, mid - width, mid + width, mid, False)


BOLLINGER = "Bollinger bands (moving average +/- k population standard deviations)"
KELTNER = "a Keltner channel (EMA +/- k ATR)"
BOLLINGER_REVERSION = _band_strategy(
    "bollinger_reversion", "Bollinger band reversion", BOLLINGER, True, BOLLINGER_PARAMS,
    bollinger_reversion_signal, lambda p: int(p["window"]) + 1, BOLLINGER_PINE,
)  # fmt: skip
BOLLINGER_BREAKOUT = _band_strategy(
    "bollinger_breakout", "Bollinger band breakout", BOLLINGER, False, BOLLINGER_PARAMS,
    bollinger_breakout_signal, lambda p: int(p["window"]) + 1, BOLLINGER_PINE,
)  # fmt: skip
KELTNER_REVERSION = _band_strategy(
    "keltner_reversion", "Keltner channel reversion", KELTNER, True, KELTNER_PARAMS,
    keltner_reversion_signal, _ma_atr_lookback, KELTNER_PINE, recursive=True,
)  # fmt: skip
KELTNER_BREAKOUT = _band_strategy(
    "keltner_breakout", "Keltner channel breakout", KELTNER, False, KELTNER_PARAMS,
    keltner_breakout_signal, _ma_atr_lookback, KELTNER_PINE, recursive=True,
)  # fmt: skip
ENVELOPE_REVERSION = _band_strategy(
    "envelope_reversion", "Moving-average envelope reversion",
    "a fixed-percentage envelope around the simple moving average", True,
    (Param("window", int, 20, 5, 200, 1, "average window"),
     Param("percent", float, 5.0, 0.5, 20.0, 0.5, "envelope half-width in percent")),
    envelope_reversion_signal, lambda p: int(p["window"]) + 1,
    "middle = ta.sma(close, window)\nupperBand = middle * (1 + percent / 100)\n"
    "lowerBand = middle * (1 - percent / 100)\n",
)  # fmt: skip
ATR_CHANNEL = _band_strategy(
    "atr_channel", "ATR channel breakout", "an ATR channel around the simple moving average",
    False,
    (Param("window", int, 50, 5, 300, 1, "average window"),
     Param("atr_window", int, 14, 2, 100, 1, "ATR window"),
     Param("k", float, 2.0, 0.5, 6.0, 0.25, "channel half-width in ATRs")),
    atr_channel_signal, _ma_atr_lookback,
    ATR_PINE + "middle = ta.sma(close, window)\natr = wilderAtr(atr_window)\n"
    "upperBand = middle + k * atr\nlowerBand = middle - k * atr\n", recursive=True,
)  # fmt: skip

BANDS = (
    BOLLINGER_REVERSION, KELTNER_REVERSION, ENVELOPE_REVERSION,
    BOLLINGER_BREAKOUT, KELTNER_BREAKOUT, ATR_CHANNEL,
)  # fmt: skip
