"""The one check of numbers (``core.bounds``), JSON that stays JSON (``core.jsontext``)
and search spaces checked before they are expanded (``core.research.space``)."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import bounds, jsontext
from core.bounds import Bound, OutOfBounds
from core.bus import Bus
from core.jobs import JOB_KINDS, JobManager
from core.research.backtest import BacktestConfig
from core.research.optimizer import Range, grid_combinations
from core.research.space import SearchTooLarge, check_space, checked_search
from core.research.strategies import ParameterError, get_strategy

SMA = get_strategy("sma_cross")


@pytest.mark.parametrize(
    ("bound", "value", "expected"),
    [
        (bounds.CASH, "1e6", 1e6),
        (bounds.CASH, 5, 5.0),
        (bounds.SEED, "7", 7),
        (bounds.SEED, 7.0, 7),
        (bounds.SEED, "4294967295", 2**32 - 1),
        (bounds.FRACTION, "1", 1.0),
        (bounds.COMMISSION, 0, 0.0),
    ],
)
def test_good_values_come_back_as_numbers(bound: Bound, value: object, expected: float) -> None:
    checked = bound.check(value)
    assert checked == expected and type(checked) is type(expected)


@pytest.mark.parametrize(
    ("bound", "value", "message"),
    [
        (bounds.CASH, "inf", "expected a number in (0, 1e+15], got 'inf'"),
        (bounds.CASH, math.nan, "got nan"),
        (bounds.CASH, 0, "got 0"),
        (bounds.CASH, 1e200, "got 1e+200"),
        (bounds.CASH, 10**400, "got 1000"),  # past the largest float
        (bounds.SEED, -1, "expected a whole number in [0, 4,294,967,295], got -1"),
        (bounds.SEED, 1.5, "got 1.5"),
        (bounds.SEED, True, "got True"),
        (bounds.SLIPPAGE_BPS, 10_000, "expected a number in [0, 10,000), got 10000"),
        (bounds.DAYS, "", "got ''"),
        (bounds.DAYS, None, "got None"),
    ],
)
def test_bad_values_are_refused_saying_what_was_expected(
    bound: Bound, value: object, message: str
) -> None:
    with pytest.raises(OutOfBounds) as refused:
        bound.check(value)
    assert message in str(refused.value)


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_checked_number_is_always_finite_and_within(value: float) -> None:
    for bound in (bounds.CASH, bounds.FRACTION, bounds.STOP_LOSS, bounds.DAYS, bounds.SEED):
        try:
            checked = bound.check(value)
        except OutOfBounds:
            continue
        assert math.isfinite(checked)
        assert bound.low is None or checked >= bound.low
        assert bound.high is None or checked <= bound.high


def test_backtest_config_names_the_field_it_refuses() -> None:
    with pytest.raises(ValueError, match=r"^cash: expected a number in \(0, 1e\+15\], got inf"):
        BacktestConfig(cash=math.inf)
    with pytest.raises(ValueError, match=r"slippage_bps: .* got 30000"):
        BacktestConfig(slippage_bps=30_000)


def test_a_parameter_refuses_what_is_not_a_finite_number() -> None:
    with pytest.raises(ParameterError, match="fast: inf is not a int"):
        SMA.resolve({"fast": math.inf})  # int(inf) overflowed before
    rsi = get_strategy("rsi_reversion")
    with pytest.raises(ParameterError, match="lower"):
        rsi.resolve({"lower": math.nan})


def test_json_text_never_holds_nan_or_infinity() -> None:
    document = {"sharpe": math.nan, "profit_factor": math.inf, "rows": [(1.5, -math.inf)]}
    text = jsontext.dumps(document)
    assert json.loads(text) == {"sharpe": None, "profit_factor": None, "rows": [[1.5, None]],
                                "profit_factor_note": "infinite: no losing trades"}  # fmt: skip
    with pytest.raises(TypeError):
        jsontext.dumps({"not json": object()})


def test_a_range_refuses_non_finite_ends_and_counts_without_listing() -> None:
    with pytest.raises(ValueError, match="start must be a finite number, got nan"):
        Range(math.nan, 5)
    with pytest.raises(ValueError, match="stop must be a finite number, got inf"):
        Range(2, math.inf)
    assert Range(2, 1e12).count == 999_999_999_999
    assert Range(0.1, 0.3, 0.1).count == len(Range(0.1, 0.3, 0.1).values()) == 3


def test_check_space_names_the_parameter_and_its_range() -> None:
    assert check_space(SMA, {"fast": Range(2, 10), "slow": Range(20, 40, 10)}) == 27
    with pytest.raises(ParameterError, match=r"fast: the grid 2..1e\+12 goes outside .*\[2, 200\]"):
        check_space(SMA, {"fast": Range(2, 1e12)})
    with pytest.raises(ParameterError, match="fast: takes whole numbers"):
        check_space(SMA, {"fast": Range(2, 5, 0.5)})
    with pytest.raises(ParameterError, match="no parameter 'speed'"):
        check_space(SMA, {"speed": Range(1, 2)})
    with pytest.raises(ParameterError, match="satisfies fast < slow"):
        grid_combinations(SMA, {"fast": Range(50, 60), "slow": Range(10, 20)})


def test_checked_search_counts_what_each_method_evaluates() -> None:
    space = {"fast": Range(2, 101), "slow": Range(3, 102)}  # 10,000 combinations
    assert checked_search(SMA, space, "grid", None, 10_000) == 10_000
    assert checked_search(SMA, space, "random", 50, 10_000) == 50
    with pytest.raises(SearchTooLarge, match=r"the grid has 10,000 combinations.*\(9,999\)"):
        checked_search(SMA, space, "random", 50, 9_999)  # random lists the grid first
    assert checked_search(SMA, space, "tpe", 100, 100) == 100  # TPE lists nothing
    with pytest.raises(SearchTooLarge, match="run 4 times, has 400"):
        checked_search(SMA, space, "tpe", 100, 399, runs=4)


async def test_the_job_manager_refuses_a_search_past_its_limit_at_submission() -> None:
    manager = JobManager(Bus(), None, JOB_KINDS, max_combos=1_000)
    grid = {"fast": [2, 101, 1], "slow": [3, 102, 1]}
    with pytest.raises(ValueError, match=r"more than QD_SWEEP_MAX_COMBOS \(1,000\)"):
        await manager.submit("optimize", {"strategy": "sma_cross", "dataset": "sim:X",
                                          "grid": grid})  # fmt: skip
    with pytest.raises(ValueError, match=r"the batch has 2,000 combinations"):
        await manager.submit("batch", {"strategies": ["sma_cross", "rsi_reversion"],
                                       "datasets": ["sim:X"], "trials": 1_000})  # fmt: skip
    with pytest.raises(ValueError, match=r"backtest: cash: expected a number in \(0, 1e\+15\]"):
        await manager.submit("backtest", {"strategy": "sma_cross", "dataset": "sim:X",
                                          "cash": math.inf})  # fmt: skip
    assert manager.jobs == {}
