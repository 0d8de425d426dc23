"""The fast forms of a user strategy (declared features, a numba function) give exactly
what the plain function gives, everywhere a strategy goes; the feature sweep equals the
per-combination backtest under a bounded feature table; a Dask worker loads a user
strategy from its own disk and refuses another version."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from backtesting.test import GOOG

from core.research import features as feature_module
from core.research import strategy_sources
from core.research.backtest import BacktestConfig
from core.research.dask_executor import DaskExecutor
from core.research.executors import executor_for
from core.research.optimizer import Range, grid_combinations, optimize
from core.research.runner import run_backtest
from core.research.strategies import (
    BUILTINS,
    REGISTRY,
    Direction,
    get_strategy,
    load_errors,
    load_user_strategies,
)
from core.research.strategies.checking import check_strategy
from core.research.strategies.user import StrategyCodeError
from core.research.sweep import sweep
from core.research.walkforward import walk_forward
from core.trading.replay import replay_history
from tests.core.data import bars_from

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning")]

BARS = bars_from(GOOG)
CONFIG = BacktestConfig(commission=0.001)
SPACE = {"n": Range(5, 60, 5), "m": Range(4, 40, 4)}

#: One rule, four ways: plain, plain with features, numba, numba with features; both
#: sides, so every code (entries, exits, both) is exercised.
CHANNELS = """\
import numpy as np
import pandas as pd
from numba import njit
from core.sdk import Feature, Param, strategy

PARAMS = [Param("n", int, default=20, min=2, max=200, step=1),
          Param("m", int, default=10, min=2, max=200, step=1)]


@njit
def channel_high(high, n):
    out = np.full(high.shape[0], np.nan)
    for i in range(n, high.shape[0]):
        out[i] = high[i - n:i].max()
    return out


@njit
def channel_low(low, m):
    out = np.full(low.shape[0], np.nan)
    for i in range(m, low.shape[0]):
        out[i] = low[i - m:i].min()
    return out


FEATURES = [Feature("upper", channel_high, ("n",), inputs=("high",)),
            Feature("lower", channel_low, ("m",), inputs=("low",))]


@strategy(id="plain_channel", name="Plain", params=PARAMS)
def plain_channel(bars, n, m):
    close = bars["close"]
    upper = pd.Series(bars["high"]).rolling(n).max().shift(1).to_numpy()
    lower = pd.Series(bars["low"]).rolling(m).min().shift(1).to_numpy()
    return close > upper, close < lower, close < lower, close > upper


@strategy(id="plain_features", name="Plain, features", params=PARAMS, features=FEATURES)
def plain_features(bars, upper, lower, n, m):
    close = bars["close"]
    return close > upper, close < lower, close < lower, close > upper


@strategy(id="numba_channel", name="Numba", params=PARAMS)
@njit
def numba_channel(open_, high, low, close, volume, n, m):
    upper, lower = channel_high(high, n), channel_low(low, m)
    return close > upper, close < lower, close < lower, close > upper


@strategy(id="numba_features", name="Numba, features", params=PARAMS, features=FEATURES)
@njit
def numba_features(open_, high, low, close, volume, upper, lower, n, m):
    return close > upper, close < lower, close < lower, close > upper
"""
FAST = ("plain_features", "numba_channel", "numba_features")


@pytest.fixture(scope="module")
def channels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fast") / "strategies"
    folder.mkdir(mode=0o700)
    path = folder / "channels.py"
    path.write_text(CHANNELS)
    path.chmod(0o600)
    strategy_sources.use(folder, entry_points=False)
    assert load_errors() == []
    yield folder
    strategy_sources.use(None, entry_points=False)
    load_user_strategies()
    assert REGISTRY == BUILTINS


def table(strategy_id: str, combos: list[dict], **options: object) -> np.ndarray:
    return sweep(get_strategy(strategy_id), BARS, combos, CONFIG, **options)  # type: ignore[arg-type]


def trades(result: object) -> list[tuple[float, ...]]:
    return [(t.entry_time, t.exit_time, t.size, t.entry_price, t.pnl)
            for t in result.trades]  # type: ignore[attr-defined]  # fmt: skip


@pytest.mark.parametrize("strategy_id", FAST)
def test_a_fast_form_backtests_and_signals_as_the_plain_function(
    channels: Path, strategy_id: str
) -> None:
    fast, plain = get_strategy(strategy_id), get_strategy("plain_channel")
    assert fast.direction is Direction.BOTH and fast.features is not None
    for params in ({"n": 20, "m": 10}, {"n": 55, "m": 7}):
        ours = run_backtest(fast, BARS, params, CONFIG)
        theirs = run_backtest(plain, BARS, params, CONFIG)
        assert ours.metrics == theirs.metrics and len(ours.trades) > 0
        assert trades(ours) == trades(theirs)
    # the live engine's call: the signal kernel on a trailing window
    window = {k: v[-300:] for k, v in BARS.items()}
    assert np.array_equal(fast.signals(window, {"n": 30, "m": 12}),
                          plain.signals(window, {"n": 30, "m": 12}))  # fmt: skip


@pytest.mark.parametrize("strategy_id", FAST)
def test_a_fast_form_sweeps_to_the_bit_as_the_plain_function(
    channels: Path, strategy_id: str
) -> None:
    combos = grid_combinations(get_strategy("plain_channel"), SPACE)
    expected = table("plain_channel", combos)
    assert np.array_equal(table(strategy_id, combos), expected, equal_nan=True)
    assert np.array_equal(table(strategy_id, combos, workers=1), expected, equal_nan=True)
    # and with trading from a later bar, the warm-up before it
    later = table("plain_channel", combos[:30], start=400)
    assert np.array_equal(table(strategy_id, combos[:30], start=400), later, equal_nan=True)


@pytest.mark.parametrize("method", ["grid", "random", "tpe"])
def test_optimize_and_walk_forward_of_numba_equal_the_plain_function(
    channels: Path, method: str
) -> None:
    options = dict(method=method, trials=None if method == "grid" else 40, seed=3, config=CONFIG)
    fast = optimize(get_strategy("numba_features"), BARS, SPACE, **options)  # type: ignore[arg-type]
    plain = optimize(get_strategy("plain_channel"), BARS, SPACE, **options)  # type: ignore[arg-type]
    assert fast.best is not None and fast.best == plain.best
    assert [e.metrics for e in fast.evaluations] == [e.metrics for e in plain.evaluations]
    if method == "grid":
        assert (walk_forward(get_strategy("numba_channel"), BARS, SPACE, windows=3, config=CONFIG)
                .windows == walk_forward(get_strategy("plain_channel"), BARS, SPACE, windows=3,
                                         config=CONFIG).windows)  # fmt: skip


def test_replay_of_a_numba_strategy_is_its_backtest(channels: Path) -> None:
    strategy = get_strategy("numba_features")
    backtest = run_backtest(strategy, BARS, {"n": 20, "m": 10}, BacktestConfig(cash=50_000))
    replay = replay_history(strategy, BARS, params={"n": 20, "m": 10}, cash=50_000)
    assert len(replay.trades) == len(backtest.trades) > 3
    for ours, theirs in zip(replay.trades, backtest.trades, strict=True):
        assert (ours.entry_time, ours.exit_time, ours.size) == (
            theirs.entry_time, theirs.exit_time, theirs.size)  # fmt: skip


@pytest.mark.parametrize("strategy_id", ["plain_features", "numba_features"])
def test_a_bounded_feature_table_evicts_and_gives_the_same_table(
    channels: Path, strategy_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    combos = grid_combinations(get_strategy("plain_channel"), SPACE)
    expected = table("plain_channel", combos)
    # room for three features of these bars: blocks must share and evict rows
    monkeypatch.setattr(feature_module, "FEATURE_MEMORY", 3 * 8 * BARS["close"].size)
    assert np.array_equal(table(strategy_id, combos), expected, equal_nan=True)


def test_each_distinct_feature_is_computed_once_when_it_fits(channels: Path) -> None:
    model = get_strategy("numba_features").features
    assert model is not None
    combos = grid_combinations(get_strategy("plain_channel"), SPACE)
    values = np.array([[c["n"], c["m"]] for c in combos], dtype=np.float64)
    plan = feature_module.FeaturePlan(model, values, ["n", "m"], [int, int])
    assert len(plan.keys) == 12 + 10  # n: 5..60 by 5, m: 4..40 by 4
    features = feature_module.FeatureTable(model, plan, BARS, rows=100)
    for block in plan.blocks(100, 16):
        rows = features.rows_of(block)
        assert rows.shape == (len(block), 2)
    assert features.computed == len(plan.keys)
    # too small a table: every block fits it, features are computed again, none lost
    small = feature_module.FeatureTable(model, plan, BARS, rows=3)
    blocks = list(plan.blocks(3, 16))
    assert sorted(np.concatenate(blocks).tolist()) == list(range(len(combos)))
    for block in blocks:
        assert len(np.unique(plan.ids[block])) <= 3
        small.rows_of(block)
    assert small.computed > len(plan.keys)


def test_check_reports_the_compiled_sweep_path(channels: Path) -> None:
    report = check_strategy(get_strategy("numba_features"))
    assert report.ok and report.sweep_path == "compiled"
    assert report.combos_per_second is not None and report.combos_per_second > 0
    assert check_strategy(get_strategy("plain_channel")).sweep_path == "per combination"


BAD = {
    "arity": (
        "from numba import njit\nfrom core.sdk import Param, strategy\n\n\n"
        "@strategy(id='arity', name='A', params=[Param('n', int, 5, 2, 9, 1)])\n@njit\n"
        "def arity(close, n):\n    return close > n, close < n\n",
        "the numba function takes 2 arguments, expected 6: (open, high, low, close, volume, n)",
    ),
    "typing": (
        "from numba import njit\nfrom core.sdk import strategy\n\n\n"
        "@strategy(id='typing', name='T')\n@njit\n"
        "def typing(open_, high, low, close, volume):\n    return close > 'x', close\n",
        "numba cannot compile it:",
    ),
    "unknown": (
        "from core.sdk import Feature, Param, strategy\n\n\n"
        "@strategy(id='unknown', name='U', params=[Param('n', int, 5, 2, 9, 1)],\n"
        "          features=[Feature('avg', lambda c, w: c, ('window',))])\n"
        "def unknown(bars, avg, n):\n    return bars['close'] > avg, bars['close'] < avg\n",
        "unknown: feature 'avg': no parameter 'window' (known: n)",
    ),
    "feature_shape": (
        "from core.sdk import Feature, Param, strategy\n\n\n"
        "@strategy(id='feature_shape', name='F', params=[Param('n', int, 5, 2, 9, 1)],\n"
        "          features=[Feature('avg', lambda c, n: c[n:], ('n',))])\n"
        "def feature_shape(bars, avg, n):\n    return bars['close'] > 0, bars['close'] < 0\n",
        "feature 'avg' must be 300 numbers, one per bar, got float64 of shape (295,)",
    ),
}  # fmt: skip


def test_bad_fast_forms_name_their_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "strategies"
    folder.mkdir(mode=0o700)
    for name, (text, _) in BAD.items():
        (folder / f"{name}.py").write_text(text)
        (folder / f"{name}.py").chmod(0o600)
    strategy_sources.use(folder, entry_points=False)
    try:
        errors = {Path(e.source).stem: e for e in load_errors()}
        assert sorted(errors) == sorted(BAD)
        for name, (_, message) in BAD.items():
            assert message in errors[name].message, errors[name]
            assert errors[name].line is not None and "\n" not in str(errors[name])
    finally:
        strategy_sources.use(None, entry_points=False)
        load_user_strategies()


@pytest.fixture
def cluster(dask_scheduler: str) -> Iterator[DaskExecutor]:
    executor = executor_for(dask_scheduler)
    assert isinstance(executor, DaskExecutor)
    yield executor
    executor.close()


def test_a_worker_loads_a_user_strategy_and_refuses_another_version(
    cluster: DaskExecutor, tmp_path: Path
) -> None:
    folder = tmp_path / "strategies"
    folder.mkdir(mode=0o700)
    path = folder / "remote_channel.py"
    path.write_text(CHANNELS.replace('id="plain_channel"', 'id="remote_channel"'))
    path.chmod(0o600)
    strategy_sources.use(folder, entry_points=False)
    try:
        for strategy_id in ("remote_channel", "numba_features"):
            strategy = get_strategy(strategy_id)
            combos = grid_combinations(strategy, SPACE)
            local = sweep(strategy, BARS, combos, CONFIG)
            remote = cluster.sweep(strategy, BARS, combos, CONFIG)
            assert np.array_equal(remote, local, equal_nan=True)
        # the file changes on disk; this process still runs the version it loaded
        path.write_text(CHANNELS.replace('id="plain_channel"', 'id="remote_channel"')
                        + "# edited\n")  # fmt: skip
        stale = next(s for s in REGISTRY.values() if s.id == "numba_channel")
        with pytest.raises(StrategyCodeError, match=textwrap.dedent(r"""
                strategy 'numba_channel' is version \w+ in .*remote_channel\.py on .*, but the
                sweep runs version \w+""").strip().replace("\n", " ")):  # fmt: skip
            cluster.sweep(stale, BARS, [{"n": 20, "m": 10}], CONFIG)
    finally:
        strategy_sources.use(None, entry_points=False)
        load_user_strategies()
