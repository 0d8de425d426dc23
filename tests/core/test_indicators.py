"""Indicator kernels: hand-checked values, pandas parity, no look-ahead, warm-up."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from core.research import indicators as ind

NAN = np.nan


def arr(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float64)


def ohlcv(n: int = 300, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100.0 + np.cumsum(rng.normal(0.0, 1.0, n))
    high = close + rng.uniform(0.0, 1.5, n)
    low = close - rng.uniform(0.0, 1.5, n)
    volume = rng.uniform(100.0, 1000.0, n)
    return {"high": high, "low": low, "close": close, "volume": volume}


def close_all(actual: np.ndarray, expected, rtol: float = 1e-10, atol: float = 1e-10) -> None:
    np.testing.assert_allclose(
        np.asarray(actual), np.asarray(expected, dtype=float), rtol=rtol, atol=atol
    )


# --- plain-Python references (independent of the kernels) -------------------


def ref_ema(xs: list[float], period: int, alpha: float | None = None) -> list[float]:
    """SMA-seeded exponential smoothing starting at the first non-NaN value."""
    a = 2.0 / (period + 1.0) if alpha is None else alpha
    out = [NAN] * len(xs)
    first = next((i for i, x in enumerate(xs) if not math.isnan(x)), len(xs))
    seed = first + period - 1
    if seed >= len(xs):
        return out
    prev = sum(xs[first : seed + 1]) / period
    out[seed] = prev
    for i in range(seed + 1, len(xs)):
        prev = a * xs[i] + (1 - a) * prev
        out[i] = prev
    return out


def ref_sma(xs: list[float], window: int) -> list[float]:
    out = [NAN] * len(xs)
    first = next((i for i, x in enumerate(xs) if not math.isnan(x)), len(xs))
    for i in range(first + window - 1, len(xs)):
        out[i] = sum(xs[i - window + 1 : i + 1]) / window
    return out


def ref_tr(h, lo, c) -> list[float]:
    return [NAN] + [max(h[i], c[i - 1]) - min(lo[i], c[i - 1]) for i in range(1, len(c))]


def ref_atr(h, lo, c, window) -> list[float]:
    return ref_ema(ref_tr(h, lo, c), window, alpha=1.0 / window)


def ref_rsi(c, window) -> list[float]:
    d = [NAN] + [c[i] - c[i - 1] for i in range(1, len(c))]
    g = [NAN] + [max(x, 0.0) for x in d[1:]]
    lo = [NAN] + [max(-x, 0.0) for x in d[1:]]
    ag = ref_ema(g, window, alpha=1.0 / window)
    al = ref_ema(lo, window, alpha=1.0 / window)
    out = []
    for a, b in zip(ag, al, strict=True):
        if math.isnan(a):
            out.append(NAN)
        elif b == 0:
            out.append(50.0 if a == 0 else 100.0)
        else:
            out.append(100 - 100 / (1 + a / b))
    return out


# --- pandas references -------------------------------------------------------


def pd_smooth(x: np.ndarray, alpha: float, period: int) -> np.ndarray:
    """pandas ewm(adjust=False) with the first value replaced by the SMA seed."""
    s = pd.Series(x)
    first = s.first_valid_index()
    seg = s.iloc[first:].reset_index(drop=True).copy()
    seg.iloc[period - 1] = seg.iloc[:period].mean()
    seg.iloc[: period - 1] = NAN
    out = np.full(len(x), NAN)
    out[first:] = seg.ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


def pd_ema(x: np.ndarray, span: int) -> np.ndarray:
    return pd_smooth(x, 2.0 / (span + 1.0), span)


def pd_wma(x: np.ndarray, window: int) -> np.ndarray:
    w = np.arange(1, window + 1, dtype=float)
    return (
        pd.Series(x).rolling(window).apply(lambda v: (v * w).sum() / w.sum(), raw=True).to_numpy()
    )


def pd_tr(d: dict[str, np.ndarray]) -> pd.Series:
    h, lo, c = (pd.Series(d[k]) for k in ("high", "low", "close"))
    pc = c.shift(1)
    return pd.concat([h, pc], axis=1).max(axis=1, skipna=False) - pd.concat([lo, pc], axis=1).min(
        axis=1, skipna=False
    )


# =============================================================================
# (a) hand-checked small inputs and plain-Python references
# =============================================================================


def test_sma_small_input_matches_hand_values() -> None:
    close_all(ind.sma(arr(1, 2, 3, 4, 5), 3), [NAN, NAN, 2, 3, 4])


def test_ema_small_input_is_sma_seeded_then_recursive() -> None:
    # alpha = 2/(3+1) = 0.5; seed = mean(1,2,3) = 2; 0.5*4+0.5*2 = 3; 0.5*5+0.5*3 = 4
    close_all(ind.ema(arr(1, 2, 3, 4, 5), 3), [NAN, NAN, 2, 3, 4])


def test_ema_linear_input_lags_by_half_of_span_minus_one() -> None:
    x = np.arange(30, dtype=float)
    out = ind.ema(x, 5)
    close_all(out[4:], x[4:] - 2.0)


def test_ema_leading_nan_starts_at_first_valid_value() -> None:
    close_all(ind.ema(arr(NAN, NAN, 1, 2, 3, 4, 5), 3), [NAN, NAN, NAN, NAN, 2, 3, 4])


def test_wma_small_input_matches_hand_values() -> None:
    # weights 1,2,3 / 6: (1+4+9)/6, (2+6+12)/6
    close_all(ind.wma(arr(1, 2, 3, 4), 3), [NAN, NAN, 14 / 6, 20 / 6])


def test_hma_small_input_matches_hand_values() -> None:
    # w=4: wma2 at t3,t4 = 20/3, 40/3; wma4 = 4.9, 9.8; raw = 253/30, 506/30;
    # hma = wma(raw, 2) at t4 = (253/30 + 2*506/30) / 3 = 1265/90
    close_all(ind.hma(arr(1, 2, 4, 8, 16), 4), [NAN, NAN, NAN, NAN, 1265 / 90])


def test_dema_and_tema_linear_input_have_zero_lag() -> None:
    x = np.arange(40, dtype=float)
    close_all(ind.dema(x, 5)[8:], x[8:])
    close_all(ind.tema(x, 5)[12:], x[12:])


def test_dema_tema_random_input_match_python_reference() -> None:
    x = ohlcv(80)["close"]
    e1 = ref_ema(list(x), 6)
    e2 = ref_ema(e1, 6)
    e3 = ref_ema(e2, 6)
    close_all(ind.dema(x, 6), [2 * a - b for a, b in zip(e1, e2, strict=True)])
    close_all(ind.tema(x, 6), [3 * a - 3 * b + c for a, b, c in zip(e1, e2, e3, strict=True)])


def test_kama_trending_input_uses_fastest_constant() -> None:
    # ER = 1 on a straight line, sc = (2/3)^2 = 4/9; seed kama[1] = x[1] = 1
    # kama[2] = 1 + 4/9*(2-1) = 13/9; kama[3] = 13/9 + 4/9*(3 - 13/9) = 173/81
    close_all(ind.kama(arr(0, 1, 2, 3), 2, 2, 30), [NAN, NAN, 13 / 9, 173 / 81])


def test_kama_random_input_matches_python_reference() -> None:
    x = list(ohlcv(100)["close"])
    n, fsc, ssc = 10, 2 / 3, 2 / 31
    expected = [NAN] * len(x)
    prev = x[n - 1]
    for t in range(n, len(x)):
        vol = sum(abs(x[i] - x[i - 1]) for i in range(t - n + 1, t + 1))
        er = abs(x[t] - x[t - n]) / vol if vol else 0.0
        prev += (er * (fsc - ssc) + ssc) ** 2 * (x[t] - prev)
        expected[t] = prev
    close_all(ind.kama(np.array(x), 10, 2, 30), expected)


def test_rsi_small_input_matches_wilder_hand_values() -> None:
    # d = 1,1,-1,1; seed g=1,l=0 -> 100; g=.5,l=.5 -> 50; g=.75,l=.25 -> RS 3 -> 75
    close_all(ind.rsi(arr(1, 2, 3, 2, 3), 2), [NAN, NAN, 100, 50, 75])


def test_rsi_flat_input_is_fifty() -> None:
    close_all(ind.rsi(np.full(10, 5.0), 3)[3:], np.full(7, 50.0))


def test_atr_small_input_uses_previous_close_and_wilder() -> None:
    h, lo, c = arr(10, 11, 12, 11), arr(9, 10, 10, 9), arr(9.5, 10.5, 11, 10)
    # TR1 = 11-9.5 = 1.5, TR2 = 12-10 = 2, TR3 = 11-9 = 2; atr2 = 1.75, atr3 = (1.75+2)/2
    close_all(ind.true_range(h, lo, c), [NAN, 1.5, 2, 2])
    close_all(ind.atr(h, lo, c, 2), [NAN, NAN, 1.75, 1.875])


def test_rolling_std_classic_example_is_population_two() -> None:
    x = arr(2, 4, 4, 4, 5, 5, 7, 9)
    close_all(ind.rolling_std(x, 8)[7], 2.0)
    close_all(ind.rolling_std(arr(1, 2, 3, 4), 2), [NAN, 0.5, 0.5, 0.5])


def test_bollinger_classic_example_is_five_plus_minus_four() -> None:
    mid, up, lo = ind.bollinger(arr(2, 4, 4, 4, 5, 5, 7, 9), 8, 2.0)
    close_all([mid[7], up[7], lo[7]], [5, 9, 1])
    assert np.isnan(mid[6]) and np.isnan(up[6]) and np.isnan(lo[6])


def test_macd_random_input_matches_python_reference() -> None:
    x = ohlcv(120)["close"]
    line = [a - b for a, b in zip(ref_ema(list(x), 5), ref_ema(list(x), 9), strict=True)]
    sig = ref_ema(line, 4)
    m, s, h = ind.macd(x, 5, 9, 4)
    close_all(m, line)
    close_all(s, sig)
    close_all(h, [a - b for a, b in zip(line, sig, strict=True)])


def test_stochastic_small_input_matches_hand_values() -> None:
    h, lo, c = arr(3, 4, 5), arr(1, 2, 3), arr(2, 3, 5)
    k, d = ind.stochastic(h, lo, c, 2, 2)
    # t1: HH 4, LL 1 -> 100*2/3; t2: HH 5, LL 2 -> 100; d2 = mean
    close_all(k, [NAN, 200 / 3, 100])
    close_all(d, [NAN, NAN, 250 / 3])


def test_williams_r_small_input_matches_hand_values() -> None:
    h, lo, c = arr(3, 4, 5), arr(1, 2, 3), arr(2, 3, 5)
    close_all(ind.williams_r(h, lo, c, 2), [NAN, -100 / 3, 0])


def test_stochastic_flat_range_is_fifty() -> None:
    x = np.full(5, 2.0)
    k, _ = ind.stochastic(x, x, x, 3, 2)
    close_all(k[2:], [50, 50, 50])
    close_all(ind.williams_r(x, x, x, 3)[2:], [-50, -50, -50])


def test_cci_small_input_matches_hand_value() -> None:
    # tp = 1,2,3: mean 2, mean deviation 2/3 -> (3-2)/(0.015*2/3) = 100
    x = arr(1, 2, 3)
    close_all(ind.cci(x, x, x, 3), [NAN, NAN, 100])


def test_rolling_max_min_small_input_matches_hand_values() -> None:
    x = arr(1, 3, 2, 5, 4, 0)
    close_all(ind.rolling_max(x, 3), [NAN, NAN, 3, 5, 5, 5])
    close_all(ind.rolling_min(x, 3), [NAN, NAN, 1, 2, 2, 0])


def test_donchian_small_input_matches_hand_values() -> None:
    up, mid, lo = ind.donchian(arr(2, 4, 3), arr(1, 0, 2), 2)
    close_all(up, [NAN, 4, 4])
    close_all(lo, [NAN, 0, 0])
    close_all(mid, [NAN, 2, 2])


def test_zscore_small_input_matches_hand_value() -> None:
    close_all(ind.zscore(arr(1, 2, 3), 3), [NAN, NAN, 1 / math.sqrt(2 / 3)])
    close_all(ind.zscore(np.full(4, 7.0), 2)[1:], [0, 0, 0])


def ref_adx(h, lo, c, n):
    m = len(c)
    pdm, mdm = [NAN], [NAN]
    for t in range(1, m):
        up, dn = h[t] - h[t - 1], lo[t - 1] - lo[t]
        pdm.append(up if up > dn and up > 0 else 0.0)
        mdm.append(dn if dn > up and dn > 0 else 0.0)
    a = 1.0 / n
    tr_s, p_s, m_s = ref_ema(ref_tr(h, lo, c), n, a), ref_ema(pdm, n, a), ref_ema(mdm, n, a)
    pdi = [NAN if math.isnan(t) else 100 * p / t for p, t in zip(p_s, tr_s, strict=True)]
    mdi = [NAN if math.isnan(t) else 100 * q / t for q, t in zip(m_s, tr_s, strict=True)]
    dx = [
        NAN if math.isnan(p) else 100 * abs(p - q) / (p + q) for p, q in zip(pdi, mdi, strict=True)
    ]
    return ref_ema(dx, n, a), pdi, mdi


def test_adx_random_input_matches_python_reference() -> None:
    d = ohlcv(120)
    got = ind.adx(d["high"], d["low"], d["close"], 7)
    for g, e in zip(got, ref_adx(*(list(d[k]) for k in ("high", "low", "close")), 7), strict=True):
        close_all(g, e)


def test_adx_steady_uptrend_has_minus_di_zero_and_adx_hundred() -> None:
    t = np.arange(40, dtype=float)
    # +DM = 1, -DM = 0, close at the high so TR = (t+1) - t = 1 -> +DI 100, DX 100
    a, p, m = ind.adx(t + 1, t, t + 1, 5)
    close_all(m[5:], np.zeros(35))
    close_all(p[5:], np.full(35, 100.0))
    close_all(a[9:], np.full(31, 100.0))


def test_aroon_small_input_matches_hand_values_and_recent_ties() -> None:
    up, dn = ind.aroon(arr(1, 3, 2, 2), arr(4, 2, 3, 1), 2)
    # t2: max high at 1 (1 bar ago) -> 50; min low at 1 -> 50
    # t3: max high at 1 (2 bars ago) -> 0; min low at 3 -> 100
    close_all(up, [NAN, NAN, 50, 0])
    close_all(dn, [NAN, NAN, 50, 100])
    up2, _ = ind.aroon(arr(1, 2, 2), arr(0, 0, 0), 2)
    close_all(up2[2], 100.0)  # tie goes to the most recent bar


def test_obv_small_input_matches_hand_values() -> None:
    close_all(ind.obv(arr(1, 2, 2, 1), arr(10, 20, 30, 40)), [10, 30, 30, -10])


def test_mfi_random_input_matches_python_reference() -> None:
    d = ohlcv(60)
    tp = list((d["high"] + d["low"] + d["close"]) / 3)
    v = list(d["volume"])
    n = 5
    expected = [NAN] * 60
    for t in range(n, 60):
        pos = sum(tp[j] * v[j] for j in range(t - n + 1, t + 1) if tp[j] > tp[j - 1])
        neg = sum(tp[j] * v[j] for j in range(t - n + 1, t + 1) if tp[j] < tp[j - 1])
        expected[t] = 100 - 100 / (1 + pos / neg) if neg else 100.0
    close_all(ind.mfi(d["high"], d["low"], d["close"], d["volume"], n), expected)


def test_mfi_all_rising_is_hundred() -> None:
    x = np.arange(1.0, 8.0)
    close_all(ind.mfi(x, x, x, np.ones(7), 3)[3:], np.full(4, 100.0))


def test_cmo_small_input_matches_hand_value() -> None:
    # changes 1, 2, -1: gains 3, losses 1 -> 100*2/4 = 50
    close_all(ind.cmo(arr(1, 2, 4, 3), 3), [NAN, NAN, NAN, 50])


def test_roc_small_input_is_ten_percent() -> None:
    close_all(ind.roc(arr(100, 110, 121), 1), [NAN, 10, 10])


def test_trix_random_input_matches_python_reference() -> None:
    x = list(ohlcv(80)["close"])
    e3 = ref_ema(ref_ema(ref_ema(x, 4), 4), 4)
    expected = [NAN] + [100 * (e3[t] / e3[t - 1] - 1) for t in range(1, 80)]
    close_all(ind.trix(np.array(x), 4), expected)


def test_vortex_small_input_matches_hand_values() -> None:
    h, lo, c = arr(10, 12, 11), arr(8, 9, 9), arr(9, 11, 10)
    # t1: VM+ |12-8| = 4, VM- |9-10| = 1, TR max(12,9)-min(9,9) = 3
    # t2: VM+ |11-9| = 2, VM- |9-12| = 3, TR max(11,11)-min(9,11) = 2
    plus, minus = ind.vortex(h, lo, c, 2)
    close_all(plus, [NAN, NAN, 6 / 5])
    close_all(minus, [NAN, NAN, 4 / 5])


def test_keltner_random_input_matches_python_reference() -> None:
    d = ohlcv(80)
    h, lo, c = (list(d[k]) for k in ("high", "low", "close"))
    mid = ref_ema(c, 6)
    a = ref_atr(h, lo, c, 4)
    m, u, lw = ind.keltner(d["high"], d["low"], d["close"], 6, 4, 1.5)
    close_all(m, mid)
    close_all(u, [x + 1.5 * y for x, y in zip(mid, a, strict=True)])
    close_all(lw, [x - 1.5 * y for x, y in zip(mid, a, strict=True)])


def test_chaikin_money_flow_small_input_matches_hand_value() -> None:
    # bar0 closes at high (mfm 1, v 1), bar1 at low (mfm -1, v 3) -> (1-3)/4
    close_all(ind.chaikin_money_flow(arr(2, 2), arr(0, 0), arr(2, 0), arr(1, 3), 2), [NAN, -0.5])


def test_rolling_vwap_small_input_matches_hand_value() -> None:
    # tp = 1, 2; (1*1 + 2*3) / 4
    close_all(ind.rolling_vwap(arr(1, 2), arr(1, 2), arr(1, 2), arr(1, 3), 2), [NAN, 1.75])
    close_all(ind.rolling_vwap(arr(1, 2), arr(1, 2), arr(1, 2), arr(0, 0), 2), [NAN, 1.5])


def test_parabolic_sar_rising_then_reversal_matches_hand_values() -> None:
    h, lo = arr(10, 11, 12, 13, 10), arr(9, 10, 11, 12, 8)
    # long from l0 = 9; t1 next = min(9 + .02*2, 9, 10) = 9; t2 out 9, ep 12 af .04,
    # next = 9 + .04*3 = 9.12; t3 out 9.12; t4 low 8 <= sar -> flip to ep 13
    close_all(ind.parabolic_sar(h, lo), [NAN, 9, 9, 9.12, 13])


def ref_psar(h, lo, start=0.02, step=0.02, mx=0.2):
    out = [NAN] * len(h)
    dn, up = lo[0] - lo[1], h[1] - h[0]
    long = not (dn > 0 and dn > up)
    af = start
    ep, sar = (h[1], lo[0]) if long else (lo[1], h[0])
    for t in range(1, len(h)):
        if long and lo[t] <= sar:
            long, af = False, start
            out[t] = sar = max(ep, h[t - 1], h[t])
            ep = lo[t]
            sar = max(sar + af * (ep - sar), h[t - 1], h[t])
        elif not long and h[t] >= sar:
            long, af = True, start
            out[t] = sar = min(ep, lo[t - 1], lo[t])
            ep = h[t]
            sar = min(sar + af * (ep - sar), lo[t - 1], lo[t])
        elif long:
            out[t] = sar
            if h[t] > ep:
                ep, af = h[t], min(af + step, mx)
            sar = min(sar + af * (ep - sar), lo[t - 1], lo[t])
        else:
            out[t] = sar
            if lo[t] < ep:
                ep, af = lo[t], min(af + step, mx)
            sar = max(sar + af * (ep - sar), h[t - 1], h[t])
    return out


def test_parabolic_sar_random_input_matches_python_reference_and_brackets_price() -> None:
    d = ohlcv(200)
    got = ind.parabolic_sar(d["high"], d["low"])
    close_all(got, ref_psar(list(d["high"]), list(d["low"])))
    # SAR is never inside the bar's range, except on the flip bar itself
    inside = (got[1:] > d["low"][1:]) & (got[1:] < d["high"][1:])
    assert not inside.any()


def test_supertrend_random_input_matches_python_reference() -> None:
    d = ohlcv(150)
    h, lo, c = (list(d[k]) for k in ("high", "low", "close"))
    n, mult = 7, 2.0
    a = ref_atr(h, lo, c, n)
    line, dirs = [NAN] * 150, [NAN] * 150
    upper = lower = 0.0
    dr = 1.0
    for t in range(n, 150):
        bu = (h[t] + lo[t]) / 2 + mult * a[t]
        bl = (h[t] + lo[t]) / 2 - mult * a[t]
        if t == n:
            upper, lower = bu, bl
        else:
            pu, pl = upper, lower
            upper = bu if bu < pu or c[t - 1] > pu else pu
            lower = bl if bl > pl or c[t - 1] < pl else pl
            dr = 1.0 if c[t] > pu else (-1.0 if c[t] < pl else dr)
        dirs[t] = dr
        line[t] = lower if dr > 0 else upper
    got_line, got_dir = ind.supertrend(d["high"], d["low"], d["close"], n, mult)
    close_all(got_line, line)
    close_all(got_dir, dirs)
    assert set(np.unique(got_dir[n:])) <= {-1.0, 1.0}


def test_ultimate_oscillator_random_input_matches_python_reference() -> None:
    d = ohlcv(80)
    h, lo, c = (list(d[k]) for k in ("high", "low", "close"))
    bp = [0.0] + [c[t] - min(lo[t], c[t - 1]) for t in range(1, 80)]
    tr = [0.0] + [max(h[t], c[t - 1]) - min(lo[t], c[t - 1]) for t in range(1, 80)]

    def avg(t, w):
        return sum(bp[t - w + 1 : t + 1]) / sum(tr[t - w + 1 : t + 1])

    expected = [NAN] * 12 + [
        100 * (4 * avg(t, 3) + 2 * avg(t, 6) + avg(t, 12)) / 7 for t in range(12, 80)
    ]
    close_all(ind.ultimate_oscillator(d["high"], d["low"], d["close"], 3, 6, 12), expected)


def test_fisher_transform_random_input_matches_python_reference() -> None:
    d = ohlcv(80)
    mid = list((d["high"] + d["low"]) / 2)
    w = 5
    fish, trig = [NAN] * 80, [NAN] * 80
    v = f = 0.0
    for t in range(w - 1, 80):
        hh, ll = max(mid[t - w + 1 : t + 1]), min(mid[t - w + 1 : t + 1])
        v = min(max(0.33 * 2 * ((mid[t] - ll) / (hh - ll) - 0.5) + 0.67 * v, -0.999), 0.999)
        if t > w - 1:
            trig[t] = f
        f = 0.5 * math.log((1 + v) / (1 - v)) + 0.5 * f
        fish[t] = f
    got_f, got_t = ind.fisher_transform(d["high"], d["low"], w)
    close_all(got_f, fish)
    close_all(got_t, trig)


def test_stoch_rsi_random_input_matches_python_reference() -> None:
    c = list(ohlcv(120)["close"])
    r = ref_rsi(c, 6)
    raw = [NAN] * 120
    for t in range(6 + 5 - 1, 120):
        win = r[t - 4 : t + 1]
        hi, lo = max(win), min(win)
        raw[t] = 100 * (r[t] - lo) / (hi - lo) if hi > lo else 50.0
    k = ref_sma(raw, 3)
    got_k, got_d = ind.stoch_rsi(np.array(c), 6, 5, 3, 2)
    close_all(got_k, k)
    close_all(got_d, ref_sma(k, 2))


def test_ibs_small_input_matches_hand_values() -> None:
    close_all(ind.ibs(arr(10, 10, 5), arr(0, 0, 5), arr(2.5, 10, 5)), [0.25, 1.0, 0.5])


def test_force_index_small_input_matches_hand_values() -> None:
    # raw = (2-1)*2 = 2, (4-2)*3 = 6, (3-4)*4 = -4; alpha = 2/3
    # seed = mean(2, 6) = 4; then 2/3*(-4) + 1/3*4 = -4/3
    close_all(ind.force_index(arr(1, 2, 4, 3), arr(1, 2, 3, 4), 2), [NAN, NAN, 4, -4 / 3])


# =============================================================================
# (b) parity with pandas on a longer random series
# =============================================================================


@pytest.fixture
def data() -> dict[str, np.ndarray]:
    return ohlcv(500, seed=0)


def frame(d: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(d)


@pytest.mark.parametrize("span", [1, 2, 10, 30])
def test_ema_random_series_matches_pandas_ewm(data, span: int) -> None:
    close_all(ind.ema(data["close"], span), pd_ema(data["close"], span))


def test_sma_wma_random_series_match_pandas_rolling(data) -> None:
    c = data["close"]
    close_all(ind.sma(c, 20), pd.Series(c).rolling(20).mean(), rtol=1e-9)
    close_all(ind.wma(c, 20), pd_wma(c, 20), rtol=1e-9)


def test_hma_dema_tema_random_series_match_pandas(data) -> None:
    c = data["close"]
    raw = 2 * pd_wma(c, 8) - pd_wma(c, 16)
    expected = np.full(len(c), NAN)
    expected[15:] = pd_wma(raw[15:], 4)
    close_all(ind.hma(c, 16), expected, rtol=1e-9)
    e1 = pd_ema(c, 10)
    e2 = pd_ema(e1, 10)
    e3 = pd_ema(e2, 10)
    close_all(ind.dema(c, 10), 2 * e1 - e2, rtol=1e-9)
    close_all(ind.tema(c, 10), 3 * e1 - 3 * e2 + e3, rtol=1e-9)


def test_rsi_random_series_matches_pandas_wilder_ewm(data) -> None:
    d = pd.Series(data["close"]).diff().to_numpy()
    gain = pd_smooth(np.where(np.isnan(d), NAN, np.maximum(d, 0)), 1 / 14, 14)
    loss = pd_smooth(np.where(np.isnan(d), NAN, np.maximum(-d, 0)), 1 / 14, 14)
    close_all(ind.rsi(data["close"], 14), 100 - 100 / (1 + gain / loss), rtol=1e-9)


def test_atr_random_series_matches_pandas_wilder_ewm(data) -> None:
    tr = pd_tr(data).to_numpy()
    close_all(ind.true_range(data["high"], data["low"], data["close"]), tr)
    close_all(
        ind.atr(data["high"], data["low"], data["close"], 14), pd_smooth(tr, 1 / 14, 14), rtol=1e-9
    )


def test_rolling_std_bollinger_zscore_random_series_match_pandas_ddof0(data) -> None:
    s = pd.Series(data["close"])
    mean, std = s.rolling(20).mean(), s.rolling(20).std(ddof=0)
    close_all(ind.rolling_std(data["close"], 20), std, rtol=1e-9)
    mid, up, lo = ind.bollinger(data["close"], 20, 2.5)
    close_all(mid, mean, rtol=1e-9)
    close_all(up, mean + 2.5 * std, rtol=1e-9)
    close_all(lo, mean - 2.5 * std, rtol=1e-9)
    close_all(ind.zscore(data["close"], 20), (s - mean) / std, rtol=1e-8, atol=1e-8)


def test_macd_random_series_matches_pandas_ewm(data) -> None:
    c = data["close"]
    line = pd_ema(c, 12) - pd_ema(c, 26)
    sig = pd_smooth(line, 2 / 10, 9)
    m, s, h = ind.macd(c, 12, 26, 9)
    close_all(m, line, rtol=1e-9)
    close_all(s, sig, rtol=1e-9)
    close_all(h, line - sig, rtol=1e-9, atol=1e-9)


def test_rolling_max_min_donchian_random_series_match_pandas(data) -> None:
    h, lo = pd.Series(data["high"]), pd.Series(data["low"])
    close_all(ind.rolling_max(data["high"], 20), h.rolling(20).max())
    close_all(ind.rolling_min(data["low"], 20), lo.rolling(20).min())
    up, mid, dn = ind.donchian(data["high"], data["low"], 20)
    close_all(up, h.rolling(20).max())
    close_all(dn, lo.rolling(20).min())
    close_all(mid, (h.rolling(20).max() + lo.rolling(20).min()) / 2)


def test_stochastic_williams_r_random_series_match_pandas(data) -> None:
    f = frame(data)
    hh, ll = f.high.rolling(14).max(), f.low.rolling(14).min()
    k = 100 * (f.close - ll) / (hh - ll)
    got_k, got_d = ind.stochastic(data["high"], data["low"], data["close"], 14, 3)
    close_all(got_k, k, rtol=1e-9)
    close_all(got_d, k.rolling(3).mean(), rtol=1e-9)
    close_all(
        ind.williams_r(data["high"], data["low"], data["close"], 14),
        -100 * (hh - f.close) / (hh - ll),
        rtol=1e-9,
    )


def test_cci_random_series_matches_pandas(data) -> None:
    f = frame(data)
    tp = (f.high + f.low + f.close) / 3
    md = tp.rolling(20).apply(lambda v: np.abs(v - v.mean()).mean(), raw=True)
    expected = (tp - tp.rolling(20).mean()) / (0.015 * md)
    close_all(ind.cci(data["high"], data["low"], data["close"], 20), expected, rtol=1e-8)


def test_adx_random_series_matches_pandas_wilder_ewm(data) -> None:
    f = frame(data)
    up, dn = f.high.diff(), -f.low.diff()
    pdm = np.where((up > dn) & (up > 0), up, 0.0)
    mdm = np.where((dn > up) & (dn > 0), dn, 0.0)
    pdm[0] = mdm[0] = NAN
    tr = pd_smooth(pd_tr(data).to_numpy(), 1 / 14, 14)
    pdi = 100 * pd_smooth(pdm, 1 / 14, 14) / tr
    mdi = 100 * pd_smooth(mdm, 1 / 14, 14) / tr
    dx = 100 * np.abs(pdi - mdi) / (pdi + mdi)
    a, p, m = ind.adx(data["high"], data["low"], data["close"], 14)
    close_all(p, pdi, rtol=1e-9)
    close_all(m, mdi, rtol=1e-9)
    close_all(a, pd_smooth(dx, 1 / 14, 14), rtol=1e-9)


def test_aroon_random_series_matches_pandas_rolling_argmax_of_reversed_window(data) -> None:
    def since_extreme(s: pd.Series, fn) -> pd.Series:
        # reverse the window so argmax/argmin (first hit) picks the most recent tie
        return s.rolling(26).apply(lambda v: fn(v[::-1]), raw=True)

    up = 100 * (25 - since_extreme(pd.Series(data["high"]), np.argmax)) / 25
    dn = 100 * (25 - since_extreme(pd.Series(data["low"]), np.argmin)) / 25
    got_up, got_dn = ind.aroon(data["high"], data["low"], 25)
    close_all(got_up, up)
    close_all(got_dn, dn)


def test_obv_random_series_matches_pandas_cumsum(data) -> None:
    f = frame(data)
    signed = np.sign(f.close.diff()).fillna(1.0) * f.volume
    close_all(ind.obv(data["close"], data["volume"]), signed.cumsum(), rtol=1e-9)


def test_mfi_random_series_matches_pandas_rolling(data) -> None:
    f = frame(data)
    tp = (f.high + f.low + f.close) / 3
    flow = tp * f.volume
    dtp = tp.diff()
    pos = flow.where(dtp > 0, 0.0).rolling(14).sum()
    neg = flow.where(dtp < 0, 0.0).rolling(14).sum()
    expected = (100 - 100 / (1 + pos / neg)).to_numpy().copy()
    expected[14 - 1] = NAN  # the first window would include bar 0, which has no flow
    close_all(
        ind.mfi(data["high"], data["low"], data["close"], data["volume"], 14), expected, rtol=1e-9
    )


def test_cmo_roc_trix_random_series_match_pandas(data) -> None:
    c = pd.Series(data["close"])
    d = c.diff()
    g, lo = d.clip(lower=0).rolling(14).sum(), (-d).clip(lower=0).rolling(14).sum()
    close_all(ind.cmo(data["close"], 14), 100 * (g - lo) / (g + lo), rtol=1e-8, atol=1e-8)
    close_all(ind.roc(data["close"], 10), 100 * c.pct_change(10), rtol=1e-9, atol=1e-9)
    e3 = pd.Series(pd_ema(pd_ema(pd_ema(data["close"], 15), 15), 15))
    close_all(ind.trix(data["close"], 15), 100 * e3.pct_change(), rtol=1e-8, atol=1e-10)


def test_vortex_random_series_matches_pandas_rolling(data) -> None:
    f = frame(data)
    vp = (f.high - f.low.shift()).abs().rolling(14).sum()
    vm = (f.low - f.high.shift()).abs().rolling(14).sum()
    tr = pd_tr(data).rolling(14).sum()
    plus, minus = ind.vortex(data["high"], data["low"], data["close"], 14)
    close_all(plus, vp / tr, rtol=1e-9)
    close_all(minus, vm / tr, rtol=1e-9)


def test_keltner_random_series_matches_pandas(data) -> None:
    mid = pd_ema(data["close"], 20)
    a = pd_smooth(pd_tr(data).to_numpy(), 1 / 10, 10)
    m, u, lo = ind.keltner(data["high"], data["low"], data["close"], 20, 10, 2.0)
    close_all(m, mid, rtol=1e-9)
    close_all(u, mid + 2 * a, rtol=1e-9)
    close_all(lo, mid - 2 * a, rtol=1e-9)


def test_chaikin_money_flow_and_vwap_random_series_match_pandas(data) -> None:
    f = frame(data)
    mfm = ((f.close - f.low) - (f.high - f.close)) / (f.high - f.low)
    cmf = (mfm * f.volume).rolling(20).sum() / f.volume.rolling(20).sum()
    close_all(
        ind.chaikin_money_flow(data["high"], data["low"], data["close"], data["volume"], 20),
        cmf,
        rtol=1e-8,
        atol=1e-12,
    )
    tp = (f.high + f.low + f.close) / 3
    vwap = (tp * f.volume).rolling(20).sum() / f.volume.rolling(20).sum()
    close_all(
        ind.rolling_vwap(data["high"], data["low"], data["close"], data["volume"], 20),
        vwap,
        rtol=1e-9,
    )


def test_ibs_force_index_random_series_match_pandas(data) -> None:
    f = frame(data)
    close_all(
        ind.ibs(data["high"], data["low"], data["close"]), (f.close - f.low) / (f.high - f.low)
    )
    raw = (f.close.diff() * f.volume).to_numpy()
    close_all(
        ind.force_index(data["close"], data["volume"], 13), pd_smooth(raw, 2 / 14, 13), rtol=1e-9
    )


# =============================================================================
# (c) no look-ahead and (d) documented warm-up, for every indicator
# =============================================================================

Kernel = Callable[[dict[str, np.ndarray]], object]

# name -> (call, first valid index of each output, as documented)
CASES: dict[str, tuple[Kernel, tuple[int, ...]]] = {
    "sma": (lambda d: ind.sma(d["close"], 10), (9,)),
    "ema": (lambda d: ind.ema(d["close"], 10), (9,)),
    "wma": (lambda d: ind.wma(d["close"], 10), (9,)),
    "hma": (lambda d: ind.hma(d["close"], 16), (15 + 3,)),
    "dema": (lambda d: ind.dema(d["close"], 10), (18,)),
    "tema": (lambda d: ind.tema(d["close"], 10), (27,)),
    "kama": (lambda d: ind.kama(d["close"], 10, 2, 30), (10,)),
    "rsi": (lambda d: ind.rsi(d["close"], 14), (14,)),
    "true_range": (lambda d: ind.true_range(d["high"], d["low"], d["close"]), (1,)),
    "atr": (lambda d: ind.atr(d["high"], d["low"], d["close"], 14), (14,)),
    "rolling_std": (lambda d: ind.rolling_std(d["close"], 20), (19,)),
    "bollinger": (lambda d: ind.bollinger(d["close"], 20, 2.0), (19, 19, 19)),
    "macd": (lambda d: ind.macd(d["close"], 12, 26, 9), (25, 33, 33)),
    "stochastic": (lambda d: ind.stochastic(d["high"], d["low"], d["close"], 14, 3), (13, 15)),
    "williams_r": (lambda d: ind.williams_r(d["high"], d["low"], d["close"], 14), (13,)),
    "cci": (lambda d: ind.cci(d["high"], d["low"], d["close"], 20), (19,)),
    "rolling_max": (lambda d: ind.rolling_max(d["high"], 20), (19,)),
    "rolling_min": (lambda d: ind.rolling_min(d["low"], 20), (19,)),
    "donchian": (lambda d: ind.donchian(d["high"], d["low"], 20), (19, 19, 19)),
    "zscore": (lambda d: ind.zscore(d["close"], 20), (19,)),
    "adx": (lambda d: ind.adx(d["high"], d["low"], d["close"], 14), (27, 14, 14)),
    "aroon": (lambda d: ind.aroon(d["high"], d["low"], 25), (25, 25)),
    "obv": (lambda d: ind.obv(d["close"], d["volume"]), (0,)),
    "mfi": (lambda d: ind.mfi(d["high"], d["low"], d["close"], d["volume"], 14), (14,)),
    "cmo": (lambda d: ind.cmo(d["close"], 14), (14,)),
    "roc": (lambda d: ind.roc(d["close"], 10), (10,)),
    "trix": (lambda d: ind.trix(d["close"], 15), (43,)),
    "vortex": (lambda d: ind.vortex(d["high"], d["low"], d["close"], 14), (14, 14)),
    "keltner": (
        lambda d: ind.keltner(d["high"], d["low"], d["close"], 20, 10, 2.0),
        (19, 19, 19),
    ),
    "keltner_long_atr": (
        lambda d: ind.keltner(d["high"], d["low"], d["close"], 5, 10, 2.0),
        (4, 10, 10),
    ),
    "chaikin_money_flow": (
        lambda d: ind.chaikin_money_flow(d["high"], d["low"], d["close"], d["volume"], 20),
        (19,),
    ),
    "rolling_vwap": (
        lambda d: ind.rolling_vwap(d["high"], d["low"], d["close"], d["volume"], 20),
        (19,),
    ),
    "parabolic_sar": (lambda d: ind.parabolic_sar(d["high"], d["low"]), (1,)),
    "supertrend": (lambda d: ind.supertrend(d["high"], d["low"], d["close"], 10, 3.0), (10, 10)),
    "ultimate_oscillator": (
        lambda d: ind.ultimate_oscillator(d["high"], d["low"], d["close"], 7, 14, 28),
        (28,),
    ),
    "fisher_transform": (lambda d: ind.fisher_transform(d["high"], d["low"], 10), (9, 10)),
    "stoch_rsi": (lambda d: ind.stoch_rsi(d["close"], 14, 14, 3, 3), (29, 31)),
    "ibs": (lambda d: ind.ibs(d["high"], d["low"], d["close"]), (0,)),
    "force_index": (lambda d: ind.force_index(d["close"], d["volume"], 13), (13,)),
    "midpoint": (lambda d: ind.midpoint(d["high"], d["low"], 9), (8,)),
    "shift": (lambda d: ind.shift(d["close"], 3), (3,)),
    "ichimoku": (lambda d: ind.ichimoku(d["high"], d["low"], 9, 26, 52, 26), (8, 25, 51, 77)),
    "streak": (lambda d: ind.streak(d["close"]), (0,)),
    "percent_rank": (lambda d: ind.percent_rank(d["close"], 10), (10,)),
    "connors_rsi": (lambda d: ind.connors_rsi(d["close"], 3, 2, 100), (101,)),
    "accumulation_distribution": (
        lambda d: ind.accumulation_distribution(d["high"], d["low"], d["close"], d["volume"]),
        (0,),
    ),
    "chaikin_oscillator": (
        lambda d: ind.chaikin_oscillator(d["high"], d["low"], d["close"], d["volume"], 3, 10),
        (9,),
    ),
    "chandelier": (lambda d: ind.chandelier(d["high"], d["low"], d["close"], 22, 3.0), (22, 22)),
    "price_volume_trend": (lambda d: ind.price_volume_trend(d["close"], d["volume"]), (0,)),
}


def outputs(result: object) -> tuple[np.ndarray, ...]:
    return result if isinstance(result, tuple) else (result,)


def test_registry_covers_every_public_kernel() -> None:
    public = {
        name
        for name, obj in vars(ind).items()
        if not name.startswith("_") and hasattr(obj, "py_func")
    }
    assert public == {name for name in CASES if name != "keltner_long_atr"}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("t", [0, 1, 40, 77, 118])
def test_future_inputs_changed_after_t_outputs_up_to_t_unchanged(name: str, t: int) -> None:
    call, _ = CASES[name]
    base = ohlcv(120, seed=1)
    other = ohlcv(120, seed=2)
    changed = {k: np.concatenate([v[: t + 1], other[k][t + 1 :] * 1.7]) for k, v in base.items()}
    before, after = outputs(call(base)), outputs(call(changed))
    assert len(before) == len(after)
    for a, b in zip(before, after, strict=True):
        assert a.shape == (120,)
        np.testing.assert_array_equal(a[: t + 1], b[: t + 1])
    if t < 118:  # the perturbation is visible somewhere later
        assert any(
            not np.array_equal(a[t + 1 :], b[t + 1 :], equal_nan=True)
            for a, b in zip(before, after, strict=True)
        )


@pytest.mark.parametrize("name", sorted(CASES))
def test_warmup_first_valid_index_equals_documented(name: str) -> None:
    call, expected = CASES[name]
    outs = outputs(call(ohlcv(120, seed=3)))
    assert len(outs) == len(expected)
    for out, first in zip(outs, expected, strict=True):
        assert out.shape == (120,)
        assert np.isnan(out[:first]).all()
        assert not np.isnan(out[first:]).any()


@pytest.mark.parametrize("name", sorted(CASES))
def test_series_shorter_than_warmup_all_nan(name: str) -> None:
    call, expected = CASES[name]
    n = min(expected)
    if n == 0:
        n = 1  # ibs/obv: a value from the first bar on
        outs = outputs(call(ohlcv(n, seed=4)))
        assert all(not np.isnan(o).any() for o in outs)
        return
    outs = outputs(call(ohlcv(n, seed=4)))
    for out in outs:
        assert out.shape == (n,)
        assert np.isnan(out).all()


# =============================================================================
# Indicators added for the strategy library
# =============================================================================


def test_midpoint_and_shift_match_pandas() -> None:
    d = ohlcv(120, seed=11)
    h, lo = pd.Series(d["high"]), pd.Series(d["low"])
    expected = (h.rolling(9).max() + lo.rolling(9).min()) / 2
    close_all(ind.midpoint(d["high"], d["low"], 9), expected)
    close_all(ind.shift(d["close"], 3), pd.Series(d["close"]).shift(3))


def test_ichimoku_lines_and_displaced_cloud_match_pandas() -> None:
    d = ohlcv(200, seed=12)
    h, lo = pd.Series(d["high"]), pd.Series(d["low"])

    def mid(n: int) -> pd.Series:
        return (h.rolling(n).max() + lo.rolling(n).min()) / 2

    tenkan, kijun, span_a, span_b = ind.ichimoku(d["high"], d["low"], 9, 26, 52, 26)
    close_all(tenkan, mid(9))
    close_all(kijun, mid(26))
    close_all(span_a, ((mid(9) + mid(26)) / 2).shift(26))
    close_all(span_b, mid(52).shift(26))
    assert np.isnan(span_b[26 + 52 - 2]) and not np.isnan(span_b[26 + 52 - 1])


def test_streak_counts_runs_of_up_and_down_closes() -> None:
    close_all(ind.streak(arr(1, 2, 3, 3, 2, 1, 2, 2.5)), [0, 1, 2, 0, -1, -2, 1, 2])


def test_percent_rank_compares_with_the_previous_window() -> None:
    # t=3: 0 against [1, 2, 3] -> none below; t=4: 5 against [2, 3, 0] -> all three below
    close_all(ind.percent_rank(arr(1, 2, 3, 0, 5), 3), [NAN, NAN, NAN, 0.0, 100.0])


def test_connors_rsi_is_the_mean_of_its_three_components() -> None:
    c = ohlcv(300, seed=13)["close"]
    streaks = ind.streak(c)
    change = [NAN] + [100 * (c[i] / c[i - 1] - 1) for i in range(1, len(c))]
    rank = [NAN] * len(c)
    for t in range(101, len(c)):
        rank[t] = 100 * sum(change[j] < change[t] for j in range(t - 100, t)) / 100
    expected = (
        np.array(ref_rsi(list(c), 3)) + np.array(ref_rsi(list(streaks), 2)) + np.array(rank)
    ) / 3
    close_all(ind.connors_rsi(c, 3, 2, 100), expected)


def test_accumulation_distribution_hand_values() -> None:
    # bar 1: mfm = ((7-0) - (10-7)) / 10 = 0.4 -> +40; bar 2: h == l adds nothing;
    # bar 3: close at the low, mfm = -1 -> -50
    line = ind.accumulation_distribution(
        arr(10, 5, 4), arr(0, 5, 2), arr(7, 5, 2), arr(100, 80, 50)
    )
    close_all(line, [40, 40, -10])


def test_chaikin_oscillator_is_the_macd_of_the_ad_line() -> None:
    d = ohlcv(200, seed=14)
    line = ind.accumulation_distribution(d["high"], d["low"], d["close"], d["volume"])
    close_all(
        ind.chaikin_oscillator(d["high"], d["low"], d["close"], d["volume"], 3, 10),
        pd_ema(line, 3) - pd_ema(line, 10),
        rtol=1e-9,
    )


def test_chandelier_hangs_k_atrs_from_the_extremes() -> None:
    d = ohlcv(150, seed=15)
    a = np.array(ref_atr(list(d["high"]), list(d["low"]), list(d["close"]), 22))
    long_stop, short_stop = ind.chandelier(d["high"], d["low"], d["close"], 22, 3.0)
    close_all(long_stop, pd.Series(d["high"]).rolling(22).max().to_numpy() - 3 * a)
    close_all(short_stop, pd.Series(d["low"]).rolling(22).min().to_numpy() + 3 * a)


def test_price_volume_trend_hand_values() -> None:
    # +10% on 1000 -> +100; -50% on 10 -> -5
    close_all(ind.price_volume_trend(arr(10, 11, 5.5), arr(7, 1000, 10)), [0, 100, 95])
