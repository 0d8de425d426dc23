"""Signal codes and building blocks shared by strategy kernels.

A strategy kernel returns one code per bar, read at that bar's close:

- ``LONG``, ``FLAT``, ``SHORT``: the position wanted from this close on;
- ``EXIT_LONG`` / ``EXIT_SHORT``: close a long (a short) if one is held,
  otherwise nothing; a rule's exit for one side must not touch the other;
- ``HOLD``: no new instruction, keep whatever is held.

Expressing signals as events rather than a running state means the signal of
the newest bar depends only on a bounded look-back, so the live engine can
compute it from a trailing window and get exactly what the backtest gets.

Kernels emit both sides; ``apply_direction`` then narrows them to what a run
allows (a long-only run turns ``SHORT`` into "get out": ``FLAT``).

Two crossing definitions are used, each named where it applies:
``crossover_signals`` crosses strictly both ways (backtesting.py's
``crossover``: a < b, then a > b); level crossings (``crosses_above``) are
Pine Script's ``ta.crossover``: at or below the level, then above it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LONG = 1
FLAT = 0
SHORT = -1
EXIT_LONG = 2
EXIT_SHORT = -2
HOLD = -128

DIRECTION_CODES = {"long": 1, "short": -1, "both": 0}


@njit(cache=True, nogil=True)
def target_position(signal: int, position: int) -> int:
    """The position ``signal`` asks for while ``position`` (+1, 0, -1) is held, or
    ``HOLD`` when it asks for no change."""
    if signal == HOLD:
        return HOLD
    if signal == EXIT_LONG:
        return FLAT if position == 1 else HOLD
    if signal == EXIT_SHORT:
        return FLAT if position == -1 else HOLD
    return HOLD if signal == position else signal


@njit(cache=True, nogil=True)
def apply_direction(signals: np.ndarray, direction: int) -> np.ndarray:
    """``signals`` narrowed to one side: 1 long only, -1 short only, 0 both (unchanged).

    Long only: ``SHORT`` becomes ``FLAT`` and ``EXIT_SHORT`` is dropped; short
    only mirrors it.
    """
    out = signals.copy()
    if direction == 0:
        return out
    for i in range(out.shape[0]):
        s = out[i]
        if direction == 1:
            if s == SHORT:
                out[i] = FLAT
            elif s == EXIT_SHORT:
                out[i] = HOLD
        else:
            if s == LONG:
                out[i] = FLAT
            elif s == EXIT_LONG:
                out[i] = HOLD
    return out


@njit(cache=True, nogil=True)
def crossover_signals(fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """``LONG`` where ``fast`` crosses above ``slow``, ``SHORT`` where it crosses below,
    ``HOLD`` elsewhere.

    A cross at bar i means fast < slow at i-1 and fast > slow at i (strictly,
    both ways), the same definition as backtesting.py's ``crossover``. Bars
    where either series is NaN hold.
    """
    n = fast.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(1, n):
        a0, b0, a1, b1 = fast[i - 1], slow[i - 1], fast[i], slow[i]
        if np.isnan(a0) or np.isnan(b0) or np.isnan(a1) or np.isnan(b1):
            continue
        if a0 < b0 and a1 > b1:
            out[i] = LONG
        elif a0 > b0 and a1 < b1:
            out[i] = SHORT
    return out


@njit(cache=True, nogil=True)
def crosses_above(values: np.ndarray, level: np.ndarray, i: int) -> bool:
    """values[i-1] <= level[i-1] and values[i] > level[i] (Pine's ``ta.crossover``);
    False when any of the four is NaN or i < 1."""
    if i < 1:
        return False
    a0, b0, a1, b1 = values[i - 1], level[i - 1], values[i], level[i]
    if np.isnan(a0) or np.isnan(b0) or np.isnan(a1) or np.isnan(b1):
        return False
    return a0 <= b0 and a1 > b1


@njit(cache=True, nogil=True)
def crosses_below(values: np.ndarray, level: np.ndarray, i: int) -> bool:
    """values[i-1] >= level[i-1] and values[i] < level[i] (Pine's ``ta.crossunder``)."""
    if i < 1:
        return False
    a0, b0, a1, b1 = values[i - 1], level[i - 1], values[i], level[i]
    if np.isnan(a0) or np.isnan(b0) or np.isnan(a1) or np.isnan(b1):
        return False
    return a0 >= b0 and a1 < b1


@njit(cache=True, nogil=True)
def constant(like: np.ndarray, value: float) -> np.ndarray:
    """An array shaped like ``like`` holding ``value``: a level to cross."""
    return np.full(like.shape[0], value)


@njit(cache=True, nogil=True)
def level_signals(values: np.ndarray, upper: float, lower: float) -> np.ndarray:
    """Trend use of an oscillator: ``LONG`` when ``values`` crosses above ``upper``,
    ``SHORT`` when it crosses below ``lower`` (Pine crossings)."""
    n = values.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    up = constant(values, upper)
    down = constant(values, lower)
    for i in range(1, n):
        if crosses_above(values, up, i):
            out[i] = LONG
        elif crosses_below(values, down, i):
            out[i] = SHORT
    return out


@njit(cache=True, nogil=True)
def band_signals(
    values: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    exit_level: np.ndarray,
    reversion: bool,
) -> np.ndarray:
    """Entries on crossing a band, exits on crossing ``exit_level`` back.

    Reversion: ``LONG`` when ``values`` crosses below ``lower``, ``SHORT`` when
    it crosses above ``upper``. Breakout (``reversion=False``): ``LONG`` above
    ``upper``, ``SHORT`` below ``lower``. Either way a long exits
    (``EXIT_LONG``) when ``values`` crosses ``exit_level`` on the far side from
    its entry, a short likewise; an entry on the same bar wins over an exit.
    """
    n = values.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(1, n):
        if reversion:
            if crosses_below(values, lower, i):
                out[i] = LONG
            elif crosses_above(values, upper, i):
                out[i] = SHORT
            elif crosses_above(values, exit_level, i):
                out[i] = EXIT_LONG
            elif crosses_below(values, exit_level, i):
                out[i] = EXIT_SHORT
        else:
            if crosses_above(values, upper, i):
                out[i] = LONG
            elif crosses_below(values, lower, i):
                out[i] = SHORT
            elif crosses_below(values, exit_level, i):
                out[i] = EXIT_LONG
            elif crosses_above(values, exit_level, i):
                out[i] = EXIT_SHORT
    return out


@njit(cache=True, nogil=True)
def oscillator_signals(
    values: np.ndarray, lower: float, upper: float, exit_level: float
) -> np.ndarray:
    """``band_signals`` in reversion mode with constant levels (RSI 30/70 exit 50 etc.)."""
    return band_signals(
        values,
        constant(values, lower),
        constant(values, upper),
        constant(values, exit_level),
        True,
    )


@njit(cache=True, nogil=True)
def state_signals(state: np.ndarray) -> np.ndarray:
    """Signals on changes of a regime array (+1 long, -1 short, 0 flat, NaN unknown):
    the new regime on the bar it begins (only after a known, different regime)."""
    n = state.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(1, n):
        a, b = state[i - 1], state[i]
        if np.isnan(a) or np.isnan(b) or a == b:
            continue
        out[i] = LONG if b > 0 else (SHORT if b < 0 else FLAT)
    return out


@njit(cache=True, nogil=True)
def event_signals(long_event: np.ndarray, short_event: np.ndarray, hold: int) -> np.ndarray:
    """Entries on boolean events, each closed ``hold`` bars after its signal.

    ``LONG`` where ``long_event``, ``SHORT`` where ``short_event`` (a bar with
    both holds). A position is closed (``FLAT``) ``hold`` bars after the last
    entry signal, unless a new entry came in between: the time exit counts
    from the newest entry, and looks back only ``hold`` bars.
    """
    n = long_event.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(n):
        if long_event[i] and not short_event[i]:
            out[i] = LONG
        elif short_event[i] and not long_event[i]:
            out[i] = SHORT
    for i in range(hold, n):
        if out[i] != HOLD:
            continue
        entry = out[i - hold]
        if entry != LONG and entry != SHORT:
            continue
        newer = False
        for j in range(i - hold + 1, i):
            if out[j] == LONG or out[j] == SHORT:
                newer = True
                break
        if not newer:
            out[i] = FLAT
    return out


@njit(cache=True, nogil=True)
def thrust_signals(values: np.ndarray, level: float) -> np.ndarray:
    """Momentum thrusts of a zero-centred oscillator: ``LONG`` when ``values`` crosses
    above +``level``, ``SHORT`` below -``level``; a long exits when it crosses
    below zero, a short when it crosses above (Pine crossings)."""
    return band_signals(
        values, constant(values, -level), constant(values, level), constant(values, 0.0), False
    )


@njit(cache=True, nogil=True)
def zone_crossover_signals(
    fast: np.ndarray, slow: np.ndarray, lower: float, upper: float
) -> np.ndarray:
    """``crossover_signals`` kept only inside the extreme zones: a cross up while
    ``slow`` is below ``lower`` (oversold) is ``LONG``, a cross down while it is
    above ``upper`` (overbought) is ``SHORT``; other crosses hold."""
    out = crossover_signals(fast, slow)
    for i in range(out.shape[0]):
        if (out[i] == LONG and not slow[i] < lower) or (out[i] == SHORT and not slow[i] > upper):
            out[i] = HOLD
    return out


@njit(cache=True, nogil=True)
def entry_exit_codes(long_in: np.ndarray, long_out: np.ndarray) -> np.ndarray:
    """Codes of a long side's boolean entries and exits: ``LONG`` on an entry (it wins
    over an exit on the same bar), ``EXIT_LONG`` on an exit, ``HOLD`` elsewhere."""
    n = long_in.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(n):
        if long_in[i]:
            out[i] = LONG
        elif long_out[i]:
            out[i] = EXIT_LONG
    return out


@njit(cache=True, nogil=True)
def both_sides_codes(
    long_in: np.ndarray, long_out: np.ndarray, short_in: np.ndarray, short_out: np.ndarray
) -> np.ndarray:
    """Codes of both sides' boolean entries and exits: an entry wins over exits, long
    and short entries together cancel out (``HOLD``), both exits together are
    ``FLAT``."""
    n = long_in.shape[0]
    out = np.full(n, HOLD, dtype=np.int8)
    for i in range(n):
        if long_in[i] or short_in[i]:
            if not (long_in[i] and short_in[i]):
                out[i] = LONG if long_in[i] else SHORT
        elif long_out[i] and short_out[i]:
            out[i] = FLAT
        elif long_out[i]:
            out[i] = EXIT_LONG
        elif short_out[i]:
            out[i] = EXIT_SHORT
    return out
