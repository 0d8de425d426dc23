"""Pine Script export: every strategy exports, deterministically, with its parameters
as inputs; and the exported script, run in an independent Pine runtime on the same
data, makes the same trades as the backtest.

The runtime is PyneCore (``pynesys-pynecore``, a Pine-compatible Python runtime
validated against TradingView); the Pine source is translated to PyneCore Python
offline by ``opencode-pine2pyne``. Neither is Quarterdeck code, so agreement is
evidence that the script means on TradingView what the backtest does.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pine2pyne
import pytest
from pine2pyne.errors import SemanticWarning
from pynecore.core.script_runner import ScriptRunner
from pynecore.core.syminfo import SymInfo
from pynecore.types.ohlcv import OHLCV

from core import __version__
from core.exports.pine import export_pine, order_logic, unmatched
from core.market.history import Bars
from core.research import indicators as ind
from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import REGISTRY, ParameterError, get_strategy
from tests.core.data import sp500

STRATEGIES = sorted(REGISTRY)
TICK = 0.01

# --- the Pine runtime --------------------------------------------------------


@functools.cache
def cents() -> Bars:
    """The S&P 500 daily bars with prices on the index's 0.01 tick (the arch package
    ships float32-rounded values); both sides of every comparison use these bars."""
    bars = sp500()
    return {k: (v if k in ("ts", "volume") else np.round(v, 2)) for k, v in bars.items()}


@functools.cache
def chart() -> list[OHLCV]:
    b = cents()
    return [
        OHLCV(int(t * 1000), o, h, lo, c, v)
        for t, o, h, lo, c, v in zip(
            b["ts"], b["open"], b["high"], b["low"], b["close"], b["volume"], strict=True
        )
    ]


def symbol(mincontract: float = 1.0) -> SymInfo:
    """An index traded in whole units (``mincontract`` 1) with a 0.01 tick."""
    return SymInfo(
        prefix="QD", description="S&P 500", ticker="SPX", currency="USD", period="1D",
        type="index", mintick=TICK, pricescale=100, pointvalue=1.0, mincontract=mincontract,
        opening_hours=[], session_starts=[], session_ends=[], timezone="UTC",
    )  # fmt: skip


@pytest.fixture(scope="session")
def pine_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Translations and runs of this session, one file per distinct script."""
    os.environ.setdefault("PYNE_SAVE_SCRIPT_TOML", "0")
    return tmp_path_factory.mktemp("pine")


def translate(script: str, directory: Path) -> Path:
    """The PyneCore module for ``script``, translated once per session. A translator
    warning (e.g. a ``ta.*`` call behind a lazy ``and``) fails the test: TradingView
    would compute that series differently."""
    path = directory / f"s{hashlib.sha256(script.encode()).hexdigest()[:16]}.py"
    if not path.exists():
        with warnings.catch_warnings():
            warnings.simplefilter("error", SemanticWarning)
            path.write_text(pine2pyne.transpile(script), encoding="utf-8")
    return path


@dataclass(frozen=True)
class T:
    """One trade as both sides report it: bar indexes, side, prices, units."""

    side: str
    entry: int
    exit: int | None  # None: still open at the end
    entry_price: float
    exit_price: float | None
    size: float
    protective: bool = False  # closed by a stop-loss or take-profit order


def pine_trades(script: str, directory: Path, mincontract: float = 1.0) -> list[T]:
    """The trades the script makes in the runtime, from its TradingView-style trade list."""
    module = translate(script, directory)
    listing = module.with_suffix(".trades.csv")
    ScriptRunner(
        module, chart(), symbol(mincontract), trade_path=listing, last_bar_index=len(chart()) - 1
    ).run()
    legs: dict[int, dict[str, object]] = {}
    with listing.open(newline="") as rows:
        for row in csv.DictReader(rows):
            kind, side = row["Type"].split()
            leg = legs.setdefault(int(row["Trade #"]), {"side": side})
            if kind == "Entry":
                leg["entry"] = int(row["Bar Index"])
                leg["entry_price"] = float(row["Price USD"])
                leg["size"] = float(row["Contracts"])
            elif row["Signal"] == "Open":  # the open trade, marked at the last close
                leg["exit"], leg["exit_price"] = None, None
            else:
                leg["exit"] = int(row["Bar Index"])
                leg["exit_price"] = float(row["Price USD"])
                leg["protective"] = row["Signal"].endswith(" exit")
    return [T(**legs[k]) for k in sorted(legs)]  # type: ignore[arg-type]


def backtest_trades(strategy_id: str, config: BacktestConfig) -> list[T]:
    bars = cents()
    index = {float(t): i for i, t in enumerate(bars["ts"])}
    result = run_backtest(get_strategy(strategy_id), bars, None, config)
    return [
        T(
            side="long" if t.size > 0 else "short",
            entry=index[t.entry_time],
            exit=None if t.exit_time is None else index[t.exit_time],
            entry_price=t.entry_price,
            exit_price=t.exit_price,
            size=abs(t.size),
        )
        for t in result.trades
    ]


def assert_same_trades(pine: list[T], ours: list[T]) -> None:
    """Trade for trade: side, entry and exit bar, prices; units while they must agree.

    Units agree until the first reversal (TradingView sizes a reversal from the
    equity at the signal close, Quarterdeck from the cash after closing at the
    next open) or the first stop/target fill (TradingView fills those on the
    tick grid): after either, equity and so later sizes may drift by a unit.
    A stop or target fills within one tick of Quarterdeck's exact level.
    """
    assert len(pine) == len(ours), f"{len(pine)} trades in Pine, {len(ours)} in the backtest"
    sized = True
    for k, (p, o) in enumerate(zip(pine, ours, strict=True)):
        where = f"trade {k}: Pine {p}, backtest {o}"
        assert (p.side, p.entry, p.exit) == (o.side, o.entry, o.exit), where
        assert p.entry_price == pytest.approx(o.entry_price, abs=1e-6), where
        if o.exit is not None:
            assert p.exit_price == pytest.approx(o.exit_price, abs=TICK if p.protective else 1e-6)
        if k and ours[k - 1].exit == o.entry:
            sized = False
        if sized:
            assert p.size == o.size, where
        sized = sized and not p.protective


# --- parity with the backtest ------------------------------------------------

#: Divergences that are float ties in Quarterdeck's own numbers, not rule differences:
#: the stochastic RSI's K and D are equal in exact arithmetic on bars 1319 and 3165,
#: and ``ind.sma``'s running sum leaves them ~1e-14 apart, enough for a strict cross;
#: the runtime's sums round the other way. Recorded as (Pine only, backtest only).
FLOAT_TIES = {
    "stoch_rsi": ({("long", 1266, 1322), ("long", 3171, 3178)},
                  {("long", 1266, 1320), ("long", 3166, 3178)}),
}  # fmt: skip


@pytest.mark.parametrize("strategy_id", STRATEGIES)
def test_default_export_trades_as_the_backtest(strategy_id: str, pine_dir: Path) -> None:
    config = BacktestConfig()
    pine = pine_trades(export_pine(get_strategy(strategy_id)), pine_dir)
    ours = backtest_trades(strategy_id, config)
    assert len(ours) > 0
    if strategy_id in FLOAT_TIES:
        pine_keys = {(t.side, t.entry, t.exit) for t in pine}
        our_keys = {(t.side, t.entry, t.exit) for t in ours}
        assert (pine_keys - our_keys, our_keys - pine_keys) == FLOAT_TIES[strategy_id]
        return
    assert_same_trades(pine, ours)


def test_stoch_rsi_divergences_are_float_ties() -> None:
    k, d = ind.stoch_rsi(cents()["close"], 14, 14, 3, 3)
    for bar in (1319, 3165):
        assert abs(k[bar] - d[bar]) < 1e-12
        assert k[bar] != d[bar]  # the backtest sees a cross where there is a tie


SETTINGS = {
    "short-fixed-fee-half-size": BacktestConfig(direction="short", fixed_fee=5.0, size=0.5),
    "both-commission": BacktestConfig(direction="both", commission=0.001),
    "fill-on-close": BacktestConfig(fill="close", direction="both", commission=0.002),
    "stop-and-target": BacktestConfig(stop_loss=0.03, take_profit=0.05, direction="both"),
    "stop-on-close-short": BacktestConfig(fill="close", stop_loss=0.02, direction="short"),
    "close-at-end": BacktestConfig(close_at_end=True, cash=25_000.0),
}
SAMPLE = ["sma_cross", "rsi_reversion", "donchian_breakout", "engulfing", "adx_trend"]


@pytest.mark.parametrize("strategy_id", SAMPLE)
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_settings_trade_as_the_backtest(name: str, strategy_id: str, pine_dir: Path) -> None:
    config = SETTINGS[name]
    pine = pine_trades(export_pine(get_strategy(strategy_id), None, config), pine_dir)
    ours = backtest_trades(strategy_id, config)
    assert_same_trades(pine, ours)


def test_fractional_units_match_on_a_fine_lot(pine_dir: Path) -> None:
    """Fractional units are TradingView's lot size: on a symbol with a fine lot the
    quantities agree to the lot."""
    config = BacktestConfig(units="fractional")
    pine = pine_trades(export_pine(get_strategy("sma_cross"), None, config), pine_dir, 1e-6)
    ours = backtest_trades("sma_cross", config)
    assert [(t.side, t.entry, t.exit) for t in pine] == [(t.side, t.entry, t.exit) for t in ours]
    assert [t.size for t in pine] == pytest.approx([t.size for t in ours], abs=2e-6)


# --- the script itself -------------------------------------------------------

INPUT = re.compile(
    r'^(\w+) = input\.(int|float)\(([-\d.]+), "(\w+)", minval=([-\d.]+), '
    r'maxval=([-\d.]+), step=([-\d.]+)(?:, tooltip="[^"]*")?\)$',
    re.MULTILINE,
)


@pytest.mark.parametrize("strategy_id", STRATEGIES)
def test_every_strategy_exports_a_complete_script(strategy_id: str) -> None:
    strategy = get_strategy(strategy_id)
    script = export_pine(strategy)
    lines = script.splitlines()
    assert lines[0] == (
        f"// Quarterdeck {__version__}: Pine Script export of {strategy.name} ({strategy_id})"
    )
    assert "//@version=6" in lines
    assert sum(line.startswith("strategy(") for line in lines) == 1
    assert strategy.pine in script
    assert re.search(r"^if qdGoLong and strategy\.position_size <= 0$", script, re.MULTILINE)


@pytest.mark.parametrize("strategy_id", STRATEGIES)
def test_inputs_carry_each_parameter_default_range_and_step(strategy_id: str) -> None:
    strategy = get_strategy(strategy_id)
    found = INPUT.findall(export_pine(strategy))
    assert [f[0] for f in found] == [p.name for p in strategy.params]
    for param, (name, kind, default, title, low, high, step) in zip(
        strategy.params, found, strict=True
    ):
        assert kind == param.type.__name__ and title == name
        assert ("." in default) == (param.type is float)
        assert [float(default), float(low), float(high), float(step)] == [
            param.default, param.min, param.max, param.step,
        ]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "exits"),
    [
        ("longEntry = a\nshortEntry = b\n", ("false", "false")),
        ("longEntry = a\nshortEntry = b\nlongExit = c\nshortExit = longExit\n",
         ("longExit", "shortExit")),
        ("longEntry = a\nshortEntry = b\nvar bool longExit = false\nlongExit := c\n",
         ("longExit", "false")),
        ("longEntry = a\nshortEntry = b\nbool shortExit = c == d\n", ("false", "shortExit")),
    ],
)  # fmt: skip
def test_exits_default_to_the_opposite_entry_only(body: str, exits: tuple[str, str]) -> None:
    logic = order_logic(body, BacktestConfig(), "both")
    assert f"qdExitLong = {exits[0]}" in logic and f"qdExitShort = {exits[1]}" in logic


def test_export_is_deterministic() -> None:
    config = BacktestConfig(commission=0.0007, stop_loss=0.04, direction="both")
    first = [export_pine(REGISTRY[s], None, config) for s in STRATEGIES]
    second = [export_pine(REGISTRY[s], None, config) for s in STRATEGIES]
    assert first == second
    assert len(set(first)) == len(STRATEGIES)


def test_header_names_the_parameters_and_settings() -> None:
    script = export_pine(get_strategy("sma_cross"), {"fast": 5}, BacktestConfig(cash=5000))
    header = script.split("//@version=6")[0]
    assert "// Parameters: fast=5, slow=30" in header
    assert "cash=5000" in header and "direction=long" in header
    assert all(line.startswith("//") for line in header.strip().splitlines())


def test_parameter_overrides_become_input_defaults() -> None:
    script = export_pine(get_strategy("adx_trend"), {"window": "21", "enter": 30})
    assert 'window = input.int(21, "window",' in script
    assert 'enter = input.float(30.0, "enter",' in script


@pytest.mark.parametrize(
    ("params", "named"),
    [({"fast": 500}, "fast"), ({"speed": 3}, "speed"), ({"fast": 40}, "fast < slow")],
)
def test_bad_parameters_are_refused_naming_them(params: dict[str, int], named: str) -> None:
    with pytest.raises(ParameterError, match=named):
        export_pine(get_strategy("sma_cross"), params)


def declaration(script: str) -> str:
    return next(line for line in script.splitlines() if line.startswith("strategy("))


def test_declaration_carries_capital_sizing_commission_and_fills() -> None:
    config = BacktestConfig(cash=25_000, commission=0.0015, size=0.25, fill="close")
    line = declaration(export_pine(get_strategy("sma_cross"), None, config))
    for setting in (
        "initial_capital=25000", "default_qty_type=strategy.percent_of_equity",
        "default_qty_value=25", "commission_type=strategy.commission.percent",
        "commission_value=0.15", "process_orders_on_close=true", "pyramiding=0",
        "margin_long=0", "margin_short=0",
    ):  # fmt: skip
        assert setting in line


def test_a_fixed_fee_alone_is_a_commission_per_order() -> None:
    line = declaration(export_pine(get_strategy("sma_cross"), None, BacktestConfig(fixed_fee=2)))
    assert "commission_type=strategy.commission.cash_per_order" in line
    assert "commission_value=2," in line


def test_entries_fill_at_the_next_open_sized_at_their_fill() -> None:
    script = export_pine(get_strategy("sma_cross"), None, BacktestConfig(direction="both"))
    assert 'strategy.entry("Long", strategy.long, limit=close * 10)' in script
    assert 'strategy.entry("Short", strategy.short, limit=close / 10)' in script
    assert "process_orders_on_close=false" in declaration(script)


@pytest.mark.parametrize(
    ("direction", "present", "absent"),
    [
        ("long", 'strategy.close("Long")', 'strategy.entry("Short"'),
        ("short", 'strategy.close("Short")', 'strategy.entry("Long"'),
    ],
)
def test_one_sided_runs_only_enter_their_side(direction: str, present: str, absent: str) -> None:
    config = BacktestConfig(direction=direction)  # type: ignore[arg-type]
    script = export_pine(get_strategy("donchian_breakout"), None, config)
    assert present in script and absent not in script


def test_settings_pine_cannot_express_are_named_in_the_header() -> None:
    config = BacktestConfig(
        slippage_bps=5, commission=0.001, fixed_fee=1, units="fractional",
        stop_loss=0.05, take_profit=0.1,
    )  # fmt: skip
    notes = unmatched(config)
    assert [n.split("=")[0].split(" ")[0] for n in notes] == [
        "slippage_bps", "fixed_fee", "units", "stop_loss",
    ]  # fmt: skip
    header = export_pine(get_strategy("sma_cross"), None, config).split("//@version=6")[0]
    assert all(f"// - {note}" in header for note in notes)
    assert unmatched(BacktestConfig()) == []
