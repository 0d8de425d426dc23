"""User strategies through ``core.sdk``: real files in temporary folders, loaded beside
the built-ins, backtested against backtesting.py, checked for look-ahead, refused when
unsafe, and broken files reported with their file and line while the rest load."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from backtesting import Backtest
from backtesting import Strategy as ReferenceStrategy
from backtesting.test import GOOG

from core.research import strategy_sources
from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.signals import LONG
from core.research.strategies import (
    BUILTINS,
    REGISTRY,
    Direction,
    all_strategies,
    get_strategy,
    load_errors,
    load_user_strategies,
)
from core.research.strategies.checking import check_strategy
from core.research.strategies.user import StrategyCodeError, sample_bars
from core.research.sweep import sweep
from tests.core.data import bars_from, sp500_frame
from tests.strategy_files import CHANNEL_BREAKOUT, write_strategy

pytestmark = [
    pytest.mark.filterwarnings("ignore:Some trades remain open"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
]

EXAMPLE = CHANNEL_BREAKOUT

PEEK = """\
import pandas as pd
from core.sdk import Param, strategy


@strategy(id="peek", name="Peeks", params=[Param("n", int, default=5, min=2, max=50, step=1)])
def peek(bars, n):
    close = pd.Series(bars["close"])
    tomorrow = close.shift(-1)
    return (tomorrow > close).to_numpy(), (tomorrow < close).to_numpy()
"""

BROKEN = {
    "syntax.py": ("from core.sdk import strategy\n\ndef f(:\n    pass\n", 3, "SyntaxError"),
    "imports.py": ("import numpy\nimport no_such_module_xyz\n", 2, "No module named"),
    "raising.py": ("x = 1\nraise RuntimeError('boom at import')\n", 2, "RuntimeError: boom"),
    "dtype.py": (
        "from core.sdk import strategy\n\n\n@strategy(id='floaty', name='Floats')\n"
        "def floaty(bars):\n    return bars['close'] * 1.0, bars['close'] * 0.0\n",
        4, "long entries must be a boolean array, got dtype float64",
    ),
    "shape.py": (
        "from core.sdk import strategy\n\n\n@strategy(id='short', name='Short')\n"
        "def short(bars):\n    c = bars['close'][1:]\n    return c > 0, c < 0\n",
        4, "must have one value per bar (300), got shape (299,)",
    ),
    "call_raises.py": (
        "from core.sdk import strategy\n\n\n@strategy(id='zero', name='Zero')\n"
        "def zero(bars):\n    return 1 / 0\n",
        6, "ZeroDivisionError",
    ),
}  # fmt: skip


@pytest.fixture
def folder(strategy_folder: Path) -> Path:
    return strategy_folder  # tests/conftest.py: private, and the registry restored after


def write(folder: Path, name: str, text: str) -> Path:
    path = write_strategy(folder, name, text)
    strategy_sources.use(folder, entry_points=False)  # a new generation: load again
    return path


class ReferenceChannelBreakout(ReferenceStrategy):
    """The channel breakout as a backtesting.py user writes it, independently."""

    n = 20
    m = 10

    def init(self) -> None:
        self.highest = self.I(lambda h: pd.Series(h).rolling(self.n).max(), self.data.High)
        self.lowest = self.I(lambda lo: pd.Series(lo).rolling(self.m).min(), self.data.Low)

    def next(self) -> None:
        # The channel of the bars before this one: [-2]. (backtesting.py calls next()
        # from the bar after the indicators' first value, so for n >= m it starts on
        # the first bar the rule can signal.)
        close = self.data.Close[-1]
        if close > self.highest[-2]:
            if not self.position:
                self.buy()
        elif close < self.lowest[-2]:
            self.position.close()


def test_the_issue_example_loads_beside_the_builtins_with_source_and_version(
    folder: Path,
) -> None:
    path = write(folder, "channel.py", EXAMPLE)
    made = get_strategy("channel_breakout")
    assert made.source == str(path)
    assert len(made.version) == 12 and made.version != "unloaded"
    assert made.direction is Direction.LONG
    assert [p.name for p in made.params] == ["n", "m"]
    ids = [s.id for s in all_strategies()]
    assert "channel_breakout" in ids and "sma_cross" in ids and len(ids) == len(BUILTINS) + 1
    assert load_errors() == []
    # a change to the file is a new version
    write(folder, "channel.py", EXAMPLE + "# edited\n")
    assert get_strategy("channel_breakout").version != made.version


def sp500_ohlcv() -> pd.DataFrame:
    return sp500_frame()[["Open", "High", "Low", "Close", "Volume"]]


@pytest.mark.parametrize(
    ("data", "cash", "n", "m", "commission"),
    [
        (lambda: GOOG, 10_000, 20, 10, 0.0),
        (lambda: GOOG, 10_000, 55, 20, 0.002),
        (lambda: GOOG, 10_000, 5, 5, 0.0),
        (sp500_ohlcv, 1_000_000, 20, 10, 0.0),  # 5,031 daily bars, 1999-2018
        (sp500_ohlcv, 1_000_000, 50, 25, 0.001),
    ],
    ids=["goog-20-10", "goog-55-20-fees", "goog-5-5", "sp500-20-10", "sp500-50-25-fees"],
)
def test_channel_breakout_matches_backtesting_py_trade_for_trade(
    folder: Path, data: Callable[[], pd.DataFrame], cash: float, n: int, m: int,
    commission: float,
) -> None:  # fmt: skip
    write(folder, "channel.py", EXAMPLE)
    frame = data()
    reference = Backtest(frame, ReferenceChannelBreakout, cash=cash,
                         commission=commission).run(n=n, m=m)  # fmt: skip
    ref_trades = reference["_trades"]
    result = run_backtest(get_strategy("channel_breakout"), bars_from(frame), {"n": n, "m": m},
                          BacktestConfig(cash=cash, commission=commission))  # fmt: skip
    closed = [t for t in result.trades if t.exit_time is not None]
    assert len(closed) == len(ref_trades) > 3
    index = frame.index
    for ours, (_, theirs) in zip(closed, ref_trades.iterrows(), strict=True):
        assert ours.entry_time == index[int(theirs["EntryBar"])].timestamp()
        assert ours.exit_time == index[int(theirs["ExitBar"])].timestamp()
        assert ours.size == theirs["Size"]
        assert ours.entry_price == pytest.approx(theirs["EntryPrice"], rel=1e-12)
        assert ours.pnl == pytest.approx(theirs["PnL"], rel=1e-9, abs=1e-9)
    assert result.metrics["equity_final"] == pytest.approx(reference["Equity Final [$]"], rel=1e-9)


def test_a_sweep_of_a_user_strategy_equals_its_backtests(folder: Path) -> None:
    write(folder, "channel.py", EXAMPLE)
    made, bars = get_strategy("channel_breakout"), bars_from(GOOG)
    combos = [{"n": 20, "m": 10}, {"n": 40, "m": 15}, {"n": 10, "m": 30}]
    rows = sweep(made, bars, combos, workers=2)
    for row, combo in zip(rows, combos, strict=True):
        single = run_backtest(made, bars, combo).metrics
        assert row[list(single).index("equity_final")] == pytest.approx(single["equity_final"])


def test_four_arrays_trade_both_sides_and_nan_is_no_signal(folder: Path) -> None:
    write(
        folder,
        "both.py",
        textwrap.dedent("""\
        import numpy as np
        from core.sdk import Param, strategy

        @strategy(id="both_sides", name="Both", family="trend",
                  params=[Param("fast", int, default=5, min=2, max=50, step=1),
                          Param("slow", int, default=20, min=3, max=200, step=1)],
                  constraints=[("slow > fast", lambda p: p["slow"] > p["fast"])])
        def both_sides(bars, fast, slow):
            import pandas as pd
            c = pd.Series(bars["close"])
            f, s = c.rolling(fast).mean().to_numpy(), c.rolling(slow).mean().to_numpy()
            return f > s, f < s, f < s, f > s
        """),
    )
    made = get_strategy("both_sides")
    assert made.direction is Direction.BOTH and made.family.value == "trend"
    result = run_backtest(made, bars_from(GOOG))
    sides = {np.sign(t.size) for t in result.trades}
    assert sides == {1.0, -1.0}
    first = min(t.entry_time for t in result.trades)
    assert first >= GOOG.index[20].timestamp()  # the NaN warm-up gave no signal
    with pytest.raises(ValueError, match="constraint slow > fast"):
        made.resolve({"fast": 30, "slow": 10})


def test_broken_files_name_their_file_and_line_while_the_others_load(folder: Path) -> None:
    write(folder, "channel.py", EXAMPLE)
    for name, (text, _, _) in BROKEN.items():
        write(folder, name, text)
    errors = {Path(e.source).name: e for e in load_errors()}
    assert set(errors) == set(BROKEN)
    for name, (_, line, message) in BROKEN.items():
        assert errors[name].line == line, errors[name]
        assert message in errors[name].message, errors[name]
        assert str(errors[name]).startswith(f"{folder / name}:{line}: ")
    assert get_strategy("channel_breakout").id == "channel_breakout"
    assert "floaty" not in REGISTRY and "zero" not in REGISTRY


def test_a_run_that_raises_later_names_the_users_line(folder: Path) -> None:
    write(
        folder,
        "fragile.py",
        textwrap.dedent("""\
        from core.sdk import Param, strategy

        @strategy(id="fragile", name="Fragile",
                  params=[Param("n", int, default=5, min=2, max=50, step=1)])
        def fragile(bars, n):
            if n == 7:
                raise ValueError("seven is not allowed")
            c = bars["close"]
            return c > c.mean(), c < c.mean()
        """),
    )
    with pytest.raises(StrategyCodeError, match=r"fragile\.py:7: ValueError: seven"):
        run_backtest(get_strategy("fragile"), bars_from(GOOG), {"n": 7})


def test_an_id_taken_by_a_builtin_or_another_file_is_refused_naming_both(folder: Path) -> None:
    write(folder, "a_channel.py", EXAMPLE)
    write(folder, "b_channel.py", EXAMPLE)
    write(folder, "mine.py", EXAMPLE.replace('"channel_breakout"', '"sma_cross"'))
    messages = [str(e) for e in load_errors()]
    assert any(
        f"{folder / 'b_channel.py'}:4: strategy id 'channel_breakout' is taken by the "
        f"strategy from {folder / 'a_channel.py'}" in m
        for m in messages
    ), messages
    assert any("mine.py:4: strategy id 'sma_cross' is taken by the built-in strategy "
               "'sma_cross'" in m for m in messages), messages  # fmt: skip
    assert get_strategy("sma_cross") is BUILTINS["sma_cross"]
    assert get_strategy("channel_breakout").source == str(folder / "a_channel.py")


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o702])
def test_a_folder_writable_by_others_is_refused(folder: Path, mode: int) -> None:
    write(folder, "channel.py", EXAMPLE)
    folder.chmod(mode)
    strategy_sources.use(folder, entry_points=False)
    try:
        errors = load_errors()
    finally:
        folder.chmod(0o700)
    assert len(errors) == 1 and errors[0].source == str(folder)
    assert "refused" in errors[0].message and "chmod go-w" in errors[0].message
    assert "channel_breakout" not in REGISTRY


def test_a_file_writable_by_others_is_refused_and_the_rest_load(folder: Path) -> None:
    write(folder, "channel.py", EXAMPLE)
    open_file = write(folder, "open.py", PEEK)
    open_file.chmod(0o666)
    errors = load_errors()
    assert [e.source for e in errors] == [str(open_file)]
    assert "writable by group and other users" in errors[0].message
    assert "channel_breakout" in REGISTRY and "peek" not in REGISTRY


def test_check_passes_a_causal_strategy_and_names_the_look_ahead_bar(folder: Path) -> None:
    write(folder, "channel.py", EXAMPLE)
    write(folder, "peek.py", PEEK)
    sound = check_strategy(get_strategy("channel_breakout"), speed=False)
    assert sound.ok, sound.as_json()
    assert [c.name for c in sound.checks] == ["imports", "parameters", "outputs",
                                              "deterministic", "look-ahead", "warm-up"]  # fmt: skip
    assert sound.warmup is not None and sound.warmup >= 20  # n=20 bars before a channel
    peeking = check_strategy(get_strategy("peek"), speed=False)
    assert not peeking.ok
    failed = [c for c in peeking.checks if not c.ok]
    assert [c.name for c in failed] == ["look-ahead"]
    assert failed[0].detail.startswith("look-ahead at bar ")


def test_a_nondeterministic_strategy_fails_its_check(folder: Path) -> None:
    write(
        folder,
        "dice.py",
        textwrap.dedent("""\
        import numpy as np
        from core.sdk import strategy

        @strategy(id="dice", name="Dice")
        def dice(bars):
            roll = np.random.default_rng().random(bars["close"].shape[0])
            return roll > 0.9, roll < 0.1
        """),
    )
    report = check_strategy(get_strategy("dice"), speed=False)
    assert not next(c for c in report.checks if c.name == "deterministic").ok


def test_the_bars_a_strategy_sees_are_read_only(folder: Path) -> None:
    write(
        folder,
        "vandal.py",
        textwrap.dedent("""\
        from core.sdk import strategy

        @strategy(id="vandal", name="Vandal")
        def vandal(bars):
            bars["close"][:] = 0.0
            return bars["close"] > 1, bars["close"] < 1
        """),
    )
    (error,) = load_errors()
    assert error.line == 5 and "read-only" in error.message


def test_entry_points_load_through_importlib_metadata(tmp_path: Path) -> None:
    site = tmp_path / "site"
    package = site / "desk_strategies"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(EXAMPLE.replace("channel_breakout", "desk_channel"))
    dist = site / "desk_strategies-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: desk-strategies\n"
                                   "Version: 1.2.3\n")  # fmt: skip
    (dist / "entry_points.txt").write_text(
        "[quarterdeck.strategies]\ndesk = desk_strategies\nbroken = desk_strategies:missing\n"
    )
    sys.path.insert(0, str(site))
    strategy_sources.use(None, entry_points=True)
    try:
        made = get_strategy("desk_channel")
        errors = load_errors()
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("desk_strategies", None)
        strategy_sources.use(None, entry_points=False)
        load_user_strategies()
    assert made.source == "desk-strategies==1.2.3"
    assert made.version.startswith("1.2.3+") and len(made.version) == len("1.2.3+") + 12
    assert len(errors) == 1 and "package desk-strategies==1.2.3" in str(errors[0])
    assert "missing" in str(errors[0])
    assert "desk_channel" not in REGISTRY


def test_a_strategy_without_pine_says_so_on_export(folder: Path) -> None:
    from core.exports.pine import export_pine

    write(folder, "channel.py", EXAMPLE)
    with pytest.raises(ValueError, match=r"channel_breakout .* has no Pine Script body"):
        export_pine(get_strategy("channel_breakout"))


def test_builtins_record_a_version_of_their_source() -> None:
    sma = get_strategy("sma_cross")
    assert sma.source == "built-in" and len(sma.version) == 12
    assert os.fspath(Path(sys.modules[sma.signal.__module__].__file__ or "")).endswith(".py")


def test_a_file_saved_again_at_once_at_the_same_size_runs_its_new_code(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Import's bytecode cache is keyed by mtime (in seconds) and size: the loader runs
    the bytes it hashed, so an edit saved within the second is never shadowed."""
    monkeypatch.setattr(sys, "dont_write_bytecode", False)  # as on a user's machine
    text = (
        "from core.sdk import Param, strategy\n\n"
        '@strategy(id="edited", name="Edited", params=[Param("n", int, default=5, min=2, '
        "max=50, step=1)])\n"
        "def edited(bars, n):\n"
        "    c = bars['close']\n"
        "    return c > c.mean() + 0 * n, c < c.mean() + 0 * n\n"
    )
    path = write(folder, "edited.py", text)
    stamp = path.stat().st_mtime_ns
    first = get_strategy("edited")
    changed = text.replace("c > c.mean()", "c < c.mean()", 1)  # the same size, the other side
    path.write_text(changed)
    os.utime(path, ns=(stamp, stamp))  # same mtime too: the cache could not tell
    strategy_sources.use(folder, entry_points=False)
    second = get_strategy("edited")
    assert second.version != first.version
    bars = sample_bars(500)
    codes = second.signal(*(bars[c] for c in ("open", "high", "low", "close", "volume")), 5)
    below = bars["close"] < bars["close"].mean()
    assert np.array_equal(codes == LONG, below)  # the new rule's entries, not the old
