"""``strategies check``: is a strategy sound, causal and fast enough to sweep?

Each check says what it found. The look-ahead check recomputes the signals on
prefixes of the history and compares them with the full run's: a causal rule
gives the same signal on bar t whether or not later bars exist. Every prefix
of a 5,000-bar history would take 5,000 calls, so it samples (``PREFIXES``):
the prefixes ending on bars where the full run signals (the bars where
reading ahead shows), spread evenly, and as many again ending on evenly spaced
bars (where reading ahead could make a signal appear). The first bar where
any prefix differs is named.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.market.history import Bars
from core.research.signals import HOLD
from core.research.strategies.base import Params, Strategy
from core.research.strategies.user import sample_bars

#: Bars of the history a strategy is checked on, unless a data file is given.
HISTORY = 5_000
#: Prefixes the look-ahead check computes: up to half on signal bars, the rest evenly.
PREFIXES = 200
#: Combinations the sweep-speed estimate runs (one core): a rule swept per combination
#: in Python, and a rule with a feature model (whose features repeat across them, as
#: they do in a real grid).
SPEED_COMBOS = 24
MODEL_SPEED_COMBOS = 1_024


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass
class Report:
    strategy: str
    source: str
    version: str
    checks: list[Check] = field(default_factory=list)
    warmup: int | None = None  # the first bar any signal is given on, with the defaults
    call_seconds: float | None = None  # one call on the history, with the defaults
    combos_per_second: float | None = None  # a sweep's speed on one core
    sweep_path: str | None = None  # how a sweep runs it (``sweep_path``)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy, "source": self.source, "version": self.version,
            "ok": self.ok, "checks": [c.as_json() for c in self.checks],
            "warmup": self.warmup, "call_seconds": self.call_seconds,
            "sweep_combos_per_second": self.combos_per_second, "sweep_path": self.sweep_path,
        }  # fmt: skip


def history(n: int = HISTORY) -> Bars:
    """The sample history a strategy is checked on: a seeded random walk, daily bars."""
    bars = sample_bars(n, seed=1)
    return {"ts": np.arange(n, dtype=np.float64) * 86_400.0, **bars}


def prefix(bars: Bars, stop: int) -> Bars:
    return {name: column[:stop].copy() for name, column in bars.items()}


def check_strategy(strategy: Strategy, bars: Bars | None = None, speed: bool = True) -> Report:
    """Every check of ``strategy`` on ``bars`` (default: ``history()``), in order; a
    check that cannot run because an earlier one failed is left out."""
    bars = bars if bars is not None else history()
    report = Report(strategy.id, strategy.source, strategy.version)
    add = report.checks.append
    add(Check("imports", True, f"{strategy.id} from {strategy.source}, version {strategy.version}"))
    try:
        params = strategy.resolve({})
    except ValueError as exc:
        add(Check("parameters", False, str(exc)))
        return report
    add(Check("parameters", True, describe_params(strategy, params)))
    run = _runner(strategy, params)
    try:
        full = run(bars)
        again = run(bars)
    except ValueError as exc:  # StrategyCodeError: raised, or a wrong output
        add(Check("outputs", False, str(exc)))
        return report
    n = bars["close"].shape[0]
    add(Check("outputs", True, f"boolean arrays of {n:,} values, one per bar"))
    same = np.array_equal(full, again)
    add(Check("deterministic", same, "two calls give the same signals" if same else
              f"two calls differ first at bar {first_difference(full, again)}"))  # fmt: skip
    add(look_ahead(run, bars, full))
    given = np.flatnonzero(full != HOLD)
    report.warmup = int(given[0]) if given.size else None
    add(Check("warm-up", True,
              f"first signal at bar {report.warmup} of {n:,}: no signal is given before it"
              if given.size else f"no signal in {n:,} bars with the defaults"))  # fmt: skip
    if speed:
        report.call_seconds = call_time(run, bars)
        report.combos_per_second = sweep_speed(strategy, bars)
        report.sweep_path = sweep_path(strategy)
        add(Check("speed", True, f"one call on {n:,} bars: {report.call_seconds * 1e3:.3g} ms; "
                  f"a sweep runs about {report.combos_per_second:,.0f} combinations/s per "
                  f"core ({PATHS[report.sweep_path]})"))  # fmt: skip
    return report


def _runner(strategy: Strategy, params: Params) -> Callable[[Bars], np.ndarray]:
    """The strategy's signal codes on some bars, both sides (what the user wrote)."""
    from core.research.strategies.base import Direction

    return lambda bars: strategy.signals(bars, params, Direction.BOTH)


def describe_params(strategy: Strategy, params: Params) -> str:
    if not strategy.params:
        return "no parameters"
    shown = ", ".join(f"{p.name}={params[p.name]} in [{p.min}, {p.max}] step {p.step}"
                      for p in strategy.params)  # fmt: skip
    rules = f"; constraints hold: {', '.join(t for t, _ in strategy.constraints)}"
    return "defaults " + shown + (rules if strategy.constraints else "")


def first_difference(a: np.ndarray, b: np.ndarray) -> int:
    differ = np.flatnonzero(a[: b.shape[0]] != b[: a.shape[0]])
    return int(differ[0]) if differ.size else min(a.shape[0], b.shape[0])


def prefix_ends(full: np.ndarray, count: int = PREFIXES) -> list[int]:
    """The prefix lengths the look-ahead check computes (see the module docstring)."""
    n = full.shape[0]
    signalled = np.flatnonzero(full != HOLD) + 1  # a prefix ending on the signal's bar
    half = count // 2
    if signalled.size > half:
        signalled = signalled[np.linspace(0, signalled.size - 1, half).astype(np.int64)]
    even = np.linspace(1, n, count - signalled.size).astype(np.int64)
    return sorted({int(k) for k in (*signalled, *even) if 1 <= k < n})


def look_ahead(run: Callable[[Bars], np.ndarray], bars: Bars, full: np.ndarray) -> Check:
    earliest: tuple[int, int, int, int] | None = None  # bar, prefix length, prefix, full
    for stop in prefix_ends(full):
        try:
            part = run(prefix(bars, stop))
        except ValueError as exc:
            return Check("look-ahead", False, f"on the first {stop:,} bars: {exc}")
        bar = first_difference(part, full[:stop])
        if bar < stop and (earliest is None or bar < earliest[0]):
            earliest = (bar, stop, int(part[bar]), int(full[bar]))
    if earliest is None:
        return Check("look-ahead", True, f"no look-ahead: {len(prefix_ends(full))} prefixes "
                     "of the history give the full run's signals")  # fmt: skip
    bar, stop, alone, later = earliest
    return Check("look-ahead", False,
                 f"look-ahead at bar {bar}: its signal is {signal_name(later)} with the whole "
                 f"history but {signal_name(alone)} with only bars 0 to {stop - 1}, so it reads "
                 "bars after the one it signals on (shift(-1), centred windows, "
                 "whole-history statistics)")  # fmt: skip


def signal_name(code: int) -> str:
    from core.research import signals

    names = {signals.LONG: "long entry", signals.SHORT: "short entry",
             signals.EXIT_LONG: "long exit", signals.EXIT_SHORT: "short exit",
             signals.FLAT: "exit", signals.HOLD: "none"}  # fmt: skip
    return names.get(code, str(code))


def call_time(run: Callable[[Bars], np.ndarray], bars: Bars, calls: int = 5) -> float:
    """The median time of one call (the first calls, which warm caches up, are done)."""
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        run(bars)
        times.append(time.perf_counter() - started)
    return float(np.median(times))


#: How a sweep runs a strategy, as ``core.research.sweep`` chooses.
PATHS = {
    "compiled": "numba rule and backtest in one parallel kernel, each distinct feature "
    "computed once: scales with the cores",
    "features": "each distinct feature computed once, the Python rule per combination in threads",
    "per combination": "the function and the backtest per combination in threads",
    "cross": "crossover of features computed once, in one parallel kernel",
}


def sweep_path(strategy: Strategy) -> str:
    if strategy.cross_feature is not None:
        return "cross"
    if strategy.features is None:
        return "per combination"
    return "compiled" if strategy.features.compiled else "features"


def sweep_speed(strategy: Strategy, bars: Bars) -> float:
    """Combinations per second of a one-core sweep around the defaults, on the path a
    real sweep takes (the first sweep of a compiled rule compiles its kernel: not timed)."""
    from core.research.sweep import sweep

    many = strategy.features is not None or strategy.cross_feature is not None
    combos = neighbours(strategy, MODEL_SPEED_COMBOS if many else SPEED_COMBOS)
    sweep(strategy, bars, combos[:2], workers=1)  # loads the compiled kernels
    started = time.perf_counter()
    sweep(strategy, bars, combos, workers=1)
    return len(combos) / max(time.perf_counter() - started, 1e-9)


def neighbours(strategy: Strategy, count: int) -> list[Params]:
    """``count`` valid parameter sets near the defaults (the defaults where none other is)."""
    rng = np.random.default_rng(0)
    out: list[Params] = []
    for _ in range(count * 20):
        values = {}
        for p in strategy.params:
            value = min(max(p.default + int(rng.integers(-3, 4)) * p.step, p.min), p.max)
            values[p.name] = p.type(round(value, 10))
        try:
            out.append(strategy.resolve(values))
        except ValueError:
            continue
        if len(out) == count:
            break
    return out or [strategy.resolve({})]
