"""Indicator kernels. Each returns an array as long as its input, NaN during warm-up.

Compiled with ``nogil`` so sweeps can run them in worker threads, and cached
so only the first run on a machine pays for compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def sma(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average: mean of the last ``window`` values, first at index window-1.

    A running sum, re-summed every ``window`` steps so rounding error cannot
    accumulate over long series.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window > n:
        return out
    total = 0.0
    for i in range(window):
        total += values[i]
    out[window - 1] = total / window
    for i in range(window, n):
        if (i - window + 1) % window == 0:
            total = 0.0
            for j in range(i - window + 1, i + 1):
                total += values[j]
        else:
            total += values[i] - values[i - window]
        out[i] = total / window
    return out


# ---------------------------------------------------------------------------
# Shared conventions for everything below.
#
# * Inputs are float64 arrays of equal length; a window < 1 or longer than the
#   series yields all NaN (as ``sma`` does).
# * Leading NaN in an input (e.g. the warm-up of another indicator) is skipped:
#   smoothers start at the first non-NaN value. NaN after that is not supported.
# * "Warm-up w" below means: out[:w] is NaN and out[w] is the first value.
# * Every kernel is causal: out[t] depends on inputs[0..t] only.
# ---------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _first_valid(values: np.ndarray) -> int:
    """Index of the first non-NaN value, or len(values) if there is none."""
    n = values.shape[0]
    for i in range(n):
        if not np.isnan(values[i]):
            return i
    return n


@njit(cache=True, nogil=True)
def _sma_tail(values: np.ndarray, window: int) -> np.ndarray:
    """``sma`` started at the first non-NaN value."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    f = _first_valid(values)
    if f < n:
        out[f:] = sma(values[f:].copy(), window)
    return out


@njit(cache=True, nogil=True)
def _rolling_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of the last ``window`` values (NaN if any of them is NaN), exact re-sum."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window > n:
        return out
    for i in range(window - 1, n):
        total = 0.0
        for j in range(i - window + 1, i + 1):
            total += values[j]
        out[i] = total
    return out


@njit(cache=True, nogil=True)
def _smooth(values: np.ndarray, alpha: float, period: int) -> np.ndarray:
    """Exponential smoothing seeded with the simple mean of the first ``period`` values.

    With f the first non-NaN index: out[f+period-1] = mean(values[f : f+period]),
    then out[t] = alpha * values[t] + (1 - alpha) * out[t-1].
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    if period < 1:
        return out
    f = _first_valid(values)
    seed = f + period - 1
    if seed >= n:
        return out
    total = 0.0
    for i in range(f, seed + 1):
        total += values[i]
    prev = total / period
    out[seed] = prev
    for i in range(seed + 1, n):
        prev = alpha * values[i] + (1.0 - alpha) * prev
        out[i] = prev
    return out


@njit(cache=True, nogil=True)
def _true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    n = close.shape[0]
    out = np.full(n, np.nan)
    for i in range(1, n):
        pc = close[i - 1]
        out[i] = max(high[i], pc) - min(low[i], pc)
    return out


# --- 1. Moving averages -----------------------------------------------------


@njit(cache=True, nogil=True)
def ema(values: np.ndarray, span: int) -> np.ndarray:
    """Exponential moving average, alpha = 2 / (span + 1).

    Seed: out[span-1] = SMA of the first ``span`` values; then
    out[t] = alpha * x[t] + (1 - alpha) * out[t-1] (pandas ``ewm(adjust=False)``
    recursion, TA-Lib seed). Warm-up span-1 (counted from the first non-NaN input).
    """
    return _smooth(values, 2.0 / (span + 1.0), span)


@njit(cache=True, nogil=True)
def wma(values: np.ndarray, window: int) -> np.ndarray:
    """Linearly weighted moving average: sum_{k=1..w} k * x[t-w+k] / (w (w + 1) / 2).

    The newest value has weight w, the oldest weight 1. Warm-up window-1
    (counted from the first non-NaN input).
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window < 1:
        return out
    f = _first_valid(values)
    denom = window * (window + 1) / 2.0
    for i in range(f + window - 1, n):
        total = 0.0
        for k in range(1, window + 1):
            total += k * values[i - window + k]
        out[i] = total / denom
    return out


@njit(cache=True, nogil=True)
def hma(values: np.ndarray, window: int) -> np.ndarray:
    """Hull moving average: WMA(2 * WMA(x, w // 2) - WMA(x, w), floor(sqrt(w))).

    Needs window >= 2 (else all NaN). Warm-up (w - 1) + (floor(sqrt(w)) - 1).
    """
    n = values.shape[0]
    if window < 2:
        return np.full(n, np.nan)
    raw = 2.0 * wma(values, window // 2) - wma(values, window)
    return wma(raw, int(np.floor(np.sqrt(window))))


@njit(cache=True, nogil=True)
def dema(values: np.ndarray, span: int) -> np.ndarray:
    """Double EMA: 2 * e1 - e2 with e1 = ema(x), e2 = ema(e1) (each SMA-seeded).

    Warm-up 2 * (span - 1).
    """
    e1 = ema(values, span)
    e2 = ema(e1, span)
    return 2.0 * e1 - e2


@njit(cache=True, nogil=True)
def tema(values: np.ndarray, span: int) -> np.ndarray:
    """Triple EMA: 3 * e1 - 3 * e2 + e3, each an SMA-seeded ema of the previous.

    Warm-up 3 * (span - 1).
    """
    e1 = ema(values, span)
    e2 = ema(e1, span)
    e3 = ema(e2, span)
    return 3.0 * e1 - 3.0 * e2 + e3


@njit(cache=True, nogil=True)
def kama(values: np.ndarray, er_window: int = 10, fast: int = 2, slow: int = 30) -> np.ndarray:
    """Kaufman adaptive moving average.

    ER[t] = |x[t] - x[t-n]| / sum_{i=t-n+1..t} |x[i] - x[i-1]| (ER = 0 when the
    denominator is 0), sc = (ER * (2/(fast+1) - 2/(slow+1)) + 2/(slow+1))^2,
    kama[t] = kama[t-1] + sc * (x[t] - kama[t-1]). Seed as TA-Lib: the previous
    KAMA at t = n is x[n-1], so the first value is at index n (warm-up er_window).
    """
    m = values.shape[0]
    out = np.full(m, np.nan)
    n = er_window
    if n < 1 or n >= m:
        return out
    fast_sc = 2.0 / (fast + 1.0)
    slow_sc = 2.0 / (slow + 1.0)
    prev = values[n - 1]
    for t in range(n, m):
        vol = 0.0
        for i in range(t - n + 1, t + 1):
            vol += abs(values[i] - values[i - 1])
        er = abs(values[t] - values[t - n]) / vol if vol > 0.0 else 0.0
        sc = (er * (fast_sc - slow_sc) + slow_sc) ** 2
        prev = prev + sc * (values[t] - prev)
        out[t] = prev
    return out


# --- 2. Oscillators, volatility, channels -----------------------------------


@njit(cache=True, nogil=True)
def rsi(close: np.ndarray, window: int = 14) -> np.ndarray:
    """Relative strength index with Wilder smoothing (alpha = 1/window).

    d[t] = close[t] - close[t-1]; gain = max(d, 0), loss = max(-d, 0). Seed at
    t = window: simple means of gains/losses d[1..window]; then
    avg[t] = (avg[t-1] * (window - 1) + g[t]) / window. RSI = 100 - 100 / (1 + G/L);
    100 when L = 0 < G, 50 when both are 0. Warm-up window.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window >= n:
        return out
    g = 0.0
    lo = 0.0
    for i in range(1, window + 1):
        d = close[i] - close[i - 1]
        if d > 0:
            g += d
        else:
            lo -= d
    g /= window
    lo /= window
    for t in range(window, n):
        if t > window:
            d = close[t] - close[t - 1]
            g = (g * (window - 1) + max(d, 0.0)) / window
            lo = (lo * (window - 1) + max(-d, 0.0)) / window
        if lo == 0.0:
            out[t] = 50.0 if g == 0.0 else 100.0
        else:
            out[t] = 100.0 - 100.0 / (1.0 + g / lo)
    return out


@njit(cache=True, nogil=True)
def true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """True range max(high, prev close) - min(low, prev close); index 0 is NaN (no prev close)."""
    return _true_range(high, low, close)


@njit(cache=True, nogil=True)
def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 14) -> np.ndarray:
    """Average true range, Wilder smoothing (TA-Lib convention).

    TR starts at index 1 (needs the previous close). atr[window] = mean(TR[1..window]),
    then atr[t] = (atr[t-1] * (window - 1) + TR[t]) / window. Warm-up window.
    """
    return _smooth(_true_range(high, low, close), 1.0 / window, window)


@njit(cache=True, nogil=True)
def rolling_std(values: np.ndarray, window: int) -> np.ndarray:
    """Rolling population standard deviation (ddof=0, as TA-Lib / backtesting.py Bollinger).

    Two-pass per window (mean, then mean squared deviation). Warm-up window-1.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window > n:
        return out
    for i in range(window - 1, n):
        mean = 0.0
        for j in range(i - window + 1, i + 1):
            mean += values[j]
        mean /= window
        ss = 0.0
        for j in range(i - window + 1, i + 1):
            ss += (values[j] - mean) ** 2
        out[i] = np.sqrt(ss / window)
    return out


@njit(cache=True, nogil=True)
def bollinger(
    values: np.ndarray, window: int = 20, k: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bollinger bands (middle, upper, lower): SMA +/- k * population std (ddof=0).

    Warm-up window-1.
    """
    mid = sma(values, window)
    sd = rolling_std(values, window)
    return mid, mid + k * sd, mid - k * sd


@njit(cache=True, nogil=True)
def macd(
    close: np.ndarray, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MACD (macd, signal, hist): macd = ema(fast) - ema(slow), signal = ema(macd, signal).

    All EMAs SMA-seeded (see ``ema``); the signal EMA starts at the first MACD
    value. hist = macd - signal. Warm-up: macd max(fast, slow) - 1, signal and
    hist max(fast, slow) + signal - 2.
    """
    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    return line, sig, line - sig


@njit(cache=True, nogil=True)
def rolling_max(values: np.ndarray, window: int) -> np.ndarray:
    """Maximum of the last ``window`` values (Donchian upper). Warm-up window-1.

    Monotonic deque, O(n).
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window > n:
        return out
    dq = np.empty(n, np.int64)
    head = 0
    tail = 0
    for i in range(n):
        while tail > head and values[dq[tail - 1]] <= values[i]:
            tail -= 1
        dq[tail] = i
        tail += 1
        if dq[head] <= i - window:
            head += 1
        if i >= window - 1:
            out[i] = values[dq[head]]
    return out


@njit(cache=True, nogil=True)
def rolling_min(values: np.ndarray, window: int) -> np.ndarray:
    """Minimum of the last ``window`` values (Donchian lower). Warm-up window-1."""
    return -rolling_max(-values, window)


@njit(cache=True, nogil=True)
def donchian(
    high: np.ndarray, low: np.ndarray, window: int = 20
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Donchian channel (upper, middle, lower): rolling max of high, min of low, their mean.

    Includes the current bar. Warm-up window-1.
    """
    up = rolling_max(high, window)
    lo = rolling_min(low, window)
    return up, (up + lo) / 2.0, lo


@njit(cache=True, nogil=True)
def stochastic(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, k_window: int = 14, d_window: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """Fast stochastic (k, d): %K = 100 (c - LL) / (HH - LL) over k_window bars, %D = SMA(%K).

    %K = 50 when HH == LL. Warm-up: k k_window-1, d k_window+d_window-2.
    """
    hh = rolling_max(high, k_window)
    ll = rolling_min(low, k_window)
    n = close.shape[0]
    k = np.full(n, np.nan)
    for i in range(n):
        if not np.isnan(hh[i]):
            rng = hh[i] - ll[i]
            k[i] = 100.0 * (close[i] - ll[i]) / rng if rng > 0.0 else 50.0
    return k, _sma_tail(k, d_window)


@njit(cache=True, nogil=True)
def williams_r(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 14
) -> np.ndarray:
    """Williams %R = -100 (HH - c) / (HH - LL) over ``window`` bars, in [-100, 0].

    -50 when HH == LL. Warm-up window-1.
    """
    hh = rolling_max(high, window)
    ll = rolling_min(low, window)
    n = close.shape[0]
    out = np.full(n, np.nan)
    for i in range(n):
        if not np.isnan(hh[i]):
            rng = hh[i] - ll[i]
            out[i] = -100.0 * (hh[i] - close[i]) / rng if rng > 0.0 else -50.0
    return out


@njit(cache=True, nogil=True)
def cci(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    window: int = 20,
    constant: float = 0.015,
) -> np.ndarray:
    """Commodity channel index: (tp - SMA(tp)) / (constant * MD), tp = (h + l + c) / 3.

    MD is the mean absolute deviation of tp about that window's SMA. 0 when
    MD == 0. Warm-up window-1.
    """
    tp = (high + low + close) / 3.0
    n = tp.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window > n:
        return out
    for i in range(window - 1, n):
        mean = 0.0
        for j in range(i - window + 1, i + 1):
            mean += tp[j]
        mean /= window
        md = 0.0
        for j in range(i - window + 1, i + 1):
            md += abs(tp[j] - mean)
        md /= window
        out[i] = (tp[i] - mean) / (constant * md) if md > 0.0 else 0.0
    return out


@njit(cache=True, nogil=True)
def zscore(values: np.ndarray, window: int) -> np.ndarray:
    """(x - SMA) / population std (ddof=0) over ``window``; 0 when std == 0. Warm-up window-1."""
    mid = sma(values, window)
    sd = rolling_std(values, window)
    n = values.shape[0]
    out = np.full(n, np.nan)
    for i in range(n):
        if not np.isnan(sd[i]):
            out[i] = (values[i] - mid[i]) / sd[i] if sd[i] > 0.0 else 0.0
    return out


# --- 3. Trend, volume and composite indicators ------------------------------


@njit(cache=True, nogil=True)
def adx(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 14
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Average directional index (adx, plus_di, minus_di), Wilder (TA-Lib convention).

    up = h[t] - h[t-1], down = l[t-1] - l[t]; +DM = up if up > down and up > 0
    else 0; -DM = down if down > up and down > 0 else 0 (from t = 1). TR, +DM
    and -DM are Wilder-smoothed like ``atr`` (mean of t = 1..window, then
    alpha = 1/window). +DI = 100 sm(+DM) / sm(TR), -DI likewise (0 if sm(TR) = 0),
    DX = 100 |+DI - -DI| / (+DI + -DI) (0 if the sum is 0), ADX = Wilder
    smoothing of DX seeded with the mean of its first ``window`` values.
    Warm-up: DI window, ADX 2 * window - 1.
    """
    n = close.shape[0]
    pdm = np.full(n, np.nan)
    mdm = np.full(n, np.nan)
    for t in range(1, n):
        up = high[t] - high[t - 1]
        down = low[t - 1] - low[t]
        pdm[t] = up if (up > down and up > 0.0) else 0.0
        mdm[t] = down if (down > up and down > 0.0) else 0.0
    alpha = 1.0 / window
    tr_s = _smooth(_true_range(high, low, close), alpha, window)
    p_s = _smooth(pdm, alpha, window)
    m_s = _smooth(mdm, alpha, window)
    pdi = np.full(n, np.nan)
    mdi = np.full(n, np.nan)
    dx = np.full(n, np.nan)
    for t in range(n):
        if not np.isnan(tr_s[t]):
            if tr_s[t] > 0.0:
                pdi[t] = 100.0 * p_s[t] / tr_s[t]
                mdi[t] = 100.0 * m_s[t] / tr_s[t]
            else:
                pdi[t] = 0.0
                mdi[t] = 0.0
            s = pdi[t] + mdi[t]
            dx[t] = 100.0 * abs(pdi[t] - mdi[t]) / s if s > 0.0 else 0.0
    return _smooth(dx, alpha, window), pdi, mdi


@njit(cache=True, nogil=True)
def aroon(high: np.ndarray, low: np.ndarray, window: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Aroon (up, down) over the last window + 1 bars (t-window..t).

    up = 100 (window - bars since the highest high) / window, down likewise with
    the lowest low; ties go to the most recent bar (TA-Lib). Warm-up window.
    """
    n = high.shape[0]
    up = np.full(n, np.nan)
    down = np.full(n, np.nan)
    if window < 1 or window >= n:
        return up, down
    for t in range(window, n):
        hi_idx = t - window
        lo_idx = t - window
        for j in range(t - window + 1, t + 1):
            if high[j] >= high[hi_idx]:
                hi_idx = j
            if low[j] <= low[lo_idx]:
                lo_idx = j
        up[t] = 100.0 * (window - (t - hi_idx)) / window
        down[t] = 100.0 * (window - (t - lo_idx)) / window
    return up, down


@njit(cache=True, nogil=True)
def obv(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """On-balance volume: obv[0] = volume[0] (TA-Lib), then +volume on an up close,
    -volume on a down close, unchanged on an equal close. Warm-up 0."""
    n = close.shape[0]
    out = np.full(n, np.nan)
    if n == 0:
        return out
    acc = volume[0]
    out[0] = acc
    for t in range(1, n):
        if close[t] > close[t - 1]:
            acc += volume[t]
        elif close[t] < close[t - 1]:
            acc -= volume[t]
        out[t] = acc
    return out


@njit(cache=True, nogil=True)
def mfi(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, window: int = 14
) -> np.ndarray:
    """Money flow index over the last ``window`` flows (t-window+1..t).

    tp = (h + l + c) / 3, flow = tp * volume; positive when tp[t] > tp[t-1],
    negative when lower, neither when equal (flows start at t = 1).
    MFI = 100 - 100 / (1 + pos / neg); 100 when neg = 0 < pos, 50 when both 0.
    Warm-up window.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window >= n:
        return out
    tp = (high + low + close) / 3.0
    for t in range(window, n):
        pos = 0.0
        neg = 0.0
        for j in range(t - window + 1, t + 1):
            f = tp[j] * volume[j]
            if tp[j] > tp[j - 1]:
                pos += f
            elif tp[j] < tp[j - 1]:
                neg += f
        if neg == 0.0:
            out[t] = 50.0 if pos == 0.0 else 100.0
        else:
            out[t] = 100.0 - 100.0 / (1.0 + pos / neg)
    return out


@njit(cache=True, nogil=True)
def cmo(close: np.ndarray, window: int = 14) -> np.ndarray:
    """Chande momentum oscillator, Chande's plain sums (not TA-Lib's Wilder variant).

    Over the last ``window`` changes d: 100 (sum gains - sum losses) / (sum gains
    + sum losses); 0 when both are 0. Warm-up window.
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    if window < 1 or window >= n:
        return out
    for t in range(window, n):
        g = 0.0
        lo = 0.0
        for j in range(t - window + 1, t + 1):
            d = close[j] - close[j - 1]
            if d > 0:
                g += d
            else:
                lo -= d
        s = g + lo
        out[t] = 100.0 * (g - lo) / s if s > 0.0 else 0.0
    return out


@njit(cache=True, nogil=True)
def roc(values: np.ndarray, window: int = 10) -> np.ndarray:
    """Rate of change in percent: 100 (x[t] / x[t-window] - 1). Warm-up window."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    if window < 1:
        return out
    for t in range(window, n):
        out[t] = 100.0 * (values[t] / values[t - window] - 1.0)
    return out


@njit(cache=True, nogil=True)
def trix(close: np.ndarray, window: int = 15) -> np.ndarray:
    """TRIX: one-bar percent change of a triple SMA-seeded EMA, 100 (e3[t] / e3[t-1] - 1).

    Warm-up 3 * (window - 1) + 1.
    """
    e3 = ema(ema(ema(close, window), window), window)
    n = close.shape[0]
    out = np.full(n, np.nan)
    for t in range(1, n):
        out[t] = 100.0 * (e3[t] / e3[t - 1] - 1.0)
    return out


@njit(cache=True, nogil=True)
def vortex(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 14
) -> tuple[np.ndarray, np.ndarray]:
    """Vortex indicator (plus, minus) = sum VM+ / sum TR, sum VM- / sum TR over ``window``.

    VM+ = |h[t] - l[t-1]|, VM- = |l[t] - h[t-1]|, TR with the previous close
    (all from t = 1). Warm-up window.
    """
    n = close.shape[0]
    vp = np.full(n, np.nan)
    vm = np.full(n, np.nan)
    for t in range(1, n):
        vp[t] = abs(high[t] - low[t - 1])
        vm[t] = abs(low[t] - high[t - 1])
    tr = _true_range(high, low, close)
    plus = np.full(n, np.nan)
    minus = np.full(n, np.nan)
    if window < 1 or window >= n:
        return plus, minus
    sp = _rolling_sum(vp[1:].copy(), window)
    sm = _rolling_sum(vm[1:].copy(), window)
    st = _rolling_sum(tr[1:].copy(), window)
    for i in range(n - 1):
        if not np.isnan(st[i]):
            plus[i + 1] = sp[i] / st[i] if st[i] > 0.0 else 0.0
            minus[i + 1] = sm[i] / st[i] if st[i] > 0.0 else 0.0
    return plus, minus


@njit(cache=True, nogil=True)
def keltner(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    window: int = 20,
    atr_window: int = 10,
    k: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keltner channel (middle, upper, lower), modern form: ema(close, window) +/- k * atr.

    ATR is Wilder (see ``atr``). Warm-up max(window - 1, atr_window).
    """
    mid = ema(close, window)
    a = atr(high, low, close, atr_window)
    return mid, mid + k * a, mid - k * a


@njit(cache=True, nogil=True)
def chaikin_money_flow(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, window: int = 20
) -> np.ndarray:
    """Chaikin money flow: sum(mfm * volume) / sum(volume) over ``window``.

    mfm = ((c - l) - (h - c)) / (h - l), 0 when h == l; CMF = 0 when the
    window's volume is 0. Warm-up window-1.
    """
    n = close.shape[0]
    mfv = np.empty(n)
    for i in range(n):
        rng = high[i] - low[i]
        mfv[i] = ((close[i] - low[i]) - (high[i] - close[i])) / rng * volume[i] if rng > 0 else 0.0
    num = _rolling_sum(mfv, window)
    den = _rolling_sum(volume, window)
    out = np.full(n, np.nan)
    for i in range(n):
        if not np.isnan(den[i]):
            out[i] = num[i] / den[i] if den[i] != 0.0 else 0.0
    return out


@njit(cache=True, nogil=True)
def rolling_vwap(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray, window: int = 20
) -> np.ndarray:
    """Rolling VWAP of the typical price: sum(tp * v) / sum(v) over ``window``, tp = (h+l+c)/3.

    When the window's volume is 0, the plain mean of tp. Warm-up window-1.
    """
    tp = (high + low + close) / 3.0
    num = _rolling_sum(tp * volume, window)
    den = _rolling_sum(volume, window)
    mean_tp = sma(tp, window)
    n = close.shape[0]
    out = np.full(n, np.nan)
    for i in range(n):
        if not np.isnan(den[i]):
            out[i] = num[i] / den[i] if den[i] != 0.0 else mean_tp[i]
    return out


@njit(cache=True, nogil=True)
def parabolic_sar(
    high: np.ndarray,
    low: np.ndarray,
    af_start: float = 0.02,
    af_step: float = 0.02,
    af_max: float = 0.2,
) -> np.ndarray:
    """Wilder's parabolic SAR, TA-Lib algorithm. Warm-up 1.

    Initial trend at bar 1: short if l[0] - l[1] > 0 and > h[1] - h[0] (a -DM),
    else long; long starts with sar = l[0], ep = h[1], short with sar = h[0],
    ep = l[1]. out[t] is the SAR in force for bar t; when bar t penetrates it,
    the trend flips and out[t] is the new SAR (the old EP, pushed beyond bars
    t-1 and t). Otherwise the next SAR = sar + af (ep - sar), clamped to not
    pass the lows (long) / highs (short) of bars t-1 and t; af starts at
    af_start and grows by af_step on each new EP, up to af_max.
    """
    n = high.shape[0]
    out = np.full(n, np.nan)
    if n < 2:
        return out
    down = low[0] - low[1]
    up = high[1] - high[0]
    is_long = not (down > 0.0 and down > up)
    af = af_start
    if is_long:
        ep = high[1]
        sar = low[0]
    else:
        ep = low[1]
        sar = high[0]
    for t in range(1, n):
        ph = high[t - 1]
        pl = low[t - 1]
        nh = high[t]
        nl = low[t]
        if is_long:
            if nl <= sar:
                is_long = False
                sar = max(ep, ph, nh)
                out[t] = sar
                af = af_start
                ep = nl
                sar = max(sar + af * (ep - sar), ph, nh)
            else:
                out[t] = sar
                if nh > ep:
                    ep = nh
                    af = min(af + af_step, af_max)
                sar = min(sar + af * (ep - sar), pl, nl)
        else:
            if nh >= sar:
                is_long = True
                sar = min(ep, pl, nl)
                out[t] = sar
                af = af_start
                ep = nh
                sar = min(sar + af * (ep - sar), pl, nl)
            else:
                out[t] = sar
                if nl < ep:
                    ep = nl
                    af = min(af + af_step, af_max)
                sar = max(sar + af * (ep - sar), ph, nh)
    return out


@njit(cache=True, nogil=True)
def supertrend(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 10, multiplier: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """Supertrend (line, direction); direction is +1 (up, line = lower band) or -1.

    basic bands = (h + l) / 2 +/- multiplier * atr(window) (Wilder). Final
    upper[t] = basic_upper[t] if it is below upper[t-1] or close[t-1] > upper[t-1],
    else upper[t-1]; final lower mirrors it. Direction starts at +1 on the first
    ATR bar; then +1 if close[t] > upper[t-1], -1 if close[t] < lower[t-1], else
    unchanged. Warm-up window.
    """
    n = close.shape[0]
    a = atr(high, low, close, window)
    line = np.full(n, np.nan)
    direction = np.full(n, np.nan)
    f = _first_valid(a)
    if f >= n:
        return line, direction
    upper = 0.0
    lower = 0.0
    d = 1.0
    for t in range(f, n):
        mid = (high[t] + low[t]) / 2.0
        bu = mid + multiplier * a[t]
        bl = mid - multiplier * a[t]
        if t == f:
            upper = bu
            lower = bl
        else:
            pu = upper
            pl = lower
            upper = bu if (bu < pu or close[t - 1] > pu) else pu
            lower = bl if (bl > pl or close[t - 1] < pl) else pl
            if close[t] > pu:
                d = 1.0
            elif close[t] < pl:
                d = -1.0
        direction[t] = d
        line[t] = lower if d > 0 else upper
    return line, direction


@njit(cache=True, nogil=True)
def ultimate_oscillator(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    w1: int = 7,
    w2: int = 14,
    w3: int = 28,
) -> np.ndarray:
    """Ultimate oscillator = 100 (4 A1 + 2 A2 + A3) / 7, Ak = sum BP / sum TR over wk bars.

    BP = c - min(l, prev c), TR = max(h, prev c) - min(l, prev c), from t = 1;
    Ak = 0.5 when its sum TR is 0. Warm-up max(w1, w2, w3).
    """
    n = close.shape[0]
    out = np.full(n, np.nan)
    w = max(w1, w2, w3)
    if min(w1, w2, w3) < 1 or w >= n:
        return out
    bp = np.zeros(n)
    tr = np.zeros(n)
    for t in range(1, n):
        pc = close[t - 1]
        bp[t] = close[t] - min(low[t], pc)
        tr[t] = max(high[t], pc) - min(low[t], pc)
    for t in range(w, n):
        avgs = np.empty(3)
        wins = (w1, w2, w3)
        for k in range(3):
            sb = 0.0
            st = 0.0
            for j in range(t - wins[k] + 1, t + 1):
                sb += bp[j]
                st += tr[j]
            avgs[k] = sb / st if st > 0.0 else 0.5
        out[t] = 100.0 * (4.0 * avgs[0] + 2.0 * avgs[1] + avgs[2]) / 7.0
    return out


@njit(cache=True, nogil=True)
def fisher_transform(
    high: np.ndarray, low: np.ndarray, window: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Ehlers Fisher transform (fisher, trigger) of the median price (h + l) / 2.

    x = 2 ((mid - LL) / (HH - LL) - 0.5) over ``window`` bars (0 if HH == LL);
    v[t] = 0.33 x + 0.67 v[t-1], clipped to +/-0.999;
    fisher[t] = 0.5 ln((1 + v) / (1 - v)) + 0.5 fisher[t-1]; both recursions start
    from 0. trigger[t] = fisher[t-1]. Warm-up: fisher window-1, trigger window.
    """
    mid = (high + low) / 2.0
    hh = rolling_max(mid, window)
    ll = rolling_min(mid, window)
    n = high.shape[0]
    fish = np.full(n, np.nan)
    trig = np.full(n, np.nan)
    v = 0.0
    fp = 0.0
    for t in range(n):
        if np.isnan(hh[t]):
            continue
        rng = hh[t] - ll[t]
        x = 2.0 * ((mid[t] - ll[t]) / rng - 0.5) if rng > 0.0 else 0.0
        v = 0.33 * x + 0.67 * v
        v = min(max(v, -0.999), 0.999)
        f = 0.5 * np.log((1.0 + v) / (1.0 - v)) + 0.5 * fp
        if t > 0 and not np.isnan(fish[t - 1]):
            trig[t] = fish[t - 1]
        fish[t] = f
        fp = f
    return fish, trig


@njit(cache=True, nogil=True)
def stoch_rsi(
    close: np.ndarray,
    rsi_window: int = 14,
    stoch_window: int = 14,
    k_window: int = 3,
    d_window: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Stochastic RSI (k, d): raw = 100 (rsi - min) / (max - min) over stoch_window RSI
    values (50 when flat), k = SMA(raw, k_window), d = SMA(k, d_window).

    Warm-up: k rsi_window + stoch_window + k_window - 2, d that + d_window - 1.
    """
    r = rsi(close, rsi_window)
    n = close.shape[0]
    raw = np.full(n, np.nan)
    f = _first_valid(r)
    if f < n:
        hh = rolling_max(r[f:].copy(), stoch_window)
        ll = rolling_min(r[f:].copy(), stoch_window)
        for i in range(n - f):
            if not np.isnan(hh[i]):
                rng = hh[i] - ll[i]
                raw[f + i] = 100.0 * (r[f + i] - ll[i]) / rng if rng > 0.0 else 50.0
    k = _sma_tail(raw, k_window)
    return k, _sma_tail(k, d_window)


@njit(cache=True, nogil=True)
def ibs(high: np.ndarray, low: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Internal bar strength (c - l) / (h - l), 0.5 when h == l. Warm-up 0."""
    n = close.shape[0]
    out = np.empty(n)
    for i in range(n):
        rng = high[i] - low[i]
        out[i] = (close[i] - low[i]) / rng if rng > 0.0 else 0.5
    return out


@njit(cache=True, nogil=True)
def force_index(close: np.ndarray, volume: np.ndarray, window: int = 13) -> np.ndarray:
    """Elder's force index: ema((c[t] - c[t-1]) * v[t], window), SMA-seeded (see ``ema``).

    The raw force starts at t = 1, so the warm-up is window.
    """
    n = close.shape[0]
    raw = np.full(n, np.nan)
    for t in range(1, n):
        raw[t] = (close[t] - close[t - 1]) * volume[t]
    return ema(raw, window)


# --- Added for the strategy library -------------------------------------------


@njit(cache=True, nogil=True)
def midpoint(high: np.ndarray, low: np.ndarray, window: int) -> np.ndarray:
    """(highest high + lowest low) / 2 over the last ``window`` bars. Warm-up window-1."""
    return (rolling_max(high, window) + rolling_min(low, window)) / 2.0


@njit(cache=True, nogil=True)
def shift(values: np.ndarray, bars: int) -> np.ndarray:
    """``values`` delayed by ``bars``: out[t] = values[t - bars], NaN before."""
    n = values.shape[0]
    out = np.full(n, np.nan)
    if bars < n:
        out[bars:] = values[: n - bars]
    return out


@njit(cache=True, nogil=True)
def ichimoku(
    high: np.ndarray,
    low: np.ndarray,
    conversion: int = 9,
    base: int = 26,
    span_b: int = 52,
    displacement: int = 26,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ichimoku (tenkan, kijun, span_a, span_b) as seen at bar t.

    tenkan = midpoint(conversion), kijun = midpoint(base); the cloud plotted at
    t was computed ``displacement`` bars earlier: span_a[t] = (tenkan + kijun)
    / 2 at t - displacement, span_b[t] = midpoint(span_b) at t - displacement.
    Warm-up of the cloud: displacement + max(base, span_b) - 1.
    """
    tenkan = midpoint(high, low, conversion)
    kijun = midpoint(high, low, base)
    a = shift((tenkan + kijun) / 2.0, displacement)
    b = shift(midpoint(high, low, span_b), displacement)
    return tenkan, kijun, a, b


@njit(cache=True, nogil=True)
def streak(close: np.ndarray) -> np.ndarray:
    """Signed run length of up (+) or down (-) closes; 0 on an unchanged close.

    streak[0] = 0; a close above the previous extends a positive streak (or
    starts one at +1), below extends a negative one. Warm-up 0.
    """
    n = close.shape[0]
    out = np.zeros(n)
    for t in range(1, n):
        if close[t] > close[t - 1]:
            out[t] = out[t - 1] + 1.0 if out[t - 1] > 0 else 1.0
        elif close[t] < close[t - 1]:
            out[t] = out[t - 1] - 1.0 if out[t - 1] < 0 else -1.0
    return out


@njit(cache=True, nogil=True)
def percent_rank(values: np.ndarray, window: int) -> np.ndarray:
    """Percentage of the previous ``window`` values strictly below values[t].

    Connors' definition: compare x[t] with x[t-window..t-1]. Warm-up window
    after the first non-NaN input.
    """
    n = values.shape[0]
    out = np.full(n, np.nan)
    f = _first_valid(values)
    for t in range(f + window, n):
        below = 0
        for j in range(t - window, t):
            if values[j] < values[t]:
                below += 1
        out[t] = 100.0 * below / window
    return out


@njit(cache=True, nogil=True)
def connors_rsi(
    close: np.ndarray, rsi_window: int = 3, streak_window: int = 2, rank_window: int = 100
) -> np.ndarray:
    """ConnorsRSI = (RSI(close, 3) + RSI(streak, 2) + percent_rank(ROC(1), 100)) / 3.

    Warm-up max(rsi_window, streak_window, rank_window + 1).
    """
    return (
        rsi(close, rsi_window)
        + rsi(streak(close), streak_window)
        + percent_rank(roc(close, 1), rank_window)
    ) / 3.0


@njit(cache=True, nogil=True)
def accumulation_distribution(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, volume: np.ndarray
) -> np.ndarray:
    """Accumulation/distribution line: running sum of the money flow volume
    ((c - l) - (h - c)) / (h - l) * v (0 when h == l). Warm-up 0."""
    n = close.shape[0]
    out = np.empty(n)
    acc = 0.0
    for i in range(n):
        rng = high[i] - low[i]
        if rng > 0:
            acc += ((close[i] - low[i]) - (high[i] - close[i])) / rng * volume[i]
        out[i] = acc
    return out


@njit(cache=True, nogil=True)
def chaikin_oscillator(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    volume: np.ndarray,
    fast: int = 3,
    slow: int = 10,
) -> np.ndarray:
    """Chaikin oscillator: ema(A/D, fast) - ema(A/D, slow). Warm-up slow-1."""
    line = accumulation_distribution(high, low, close, volume)
    return ema(line, fast) - ema(line, slow)


@njit(cache=True, nogil=True)
def chandelier(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, window: int = 22, k: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """Chandelier exits (long_stop, short_stop): highest high - k * ATR and
    lowest low + k * ATR over ``window`` (Wilder ATR). Warm-up window."""
    a = atr(high, low, close, window)
    return rolling_max(high, window) - k * a, rolling_min(low, window) + k * a


@njit(cache=True, nogil=True)
def price_volume_trend(close: np.ndarray, volume: np.ndarray) -> np.ndarray:
    """Price volume trend: pvt[0] = 0, pvt[t] = pvt[t-1] + v[t] (c[t] - c[t-1]) / c[t-1]."""
    n = close.shape[0]
    out = np.zeros(n)
    for t in range(1, n):
        out[t] = out[t - 1] + volume[t] * (close[t] - close[t - 1]) / close[t - 1]
    return out
