"""Hostile numbers on the command line and in settings: every numeric option of every
command, tried with NaN, infinities, empty, wrong-typed, below and above its meaning,
is a one-line usage error naming the option (exit 2), never a traceback.

The table is the parser itself: each option whose type is a ``core.bounds`` check is
found by walking ``build_parser()``, so a new numeric option is tried without being
listed here, and one added with a bare ``int``/``float`` type fails the last test."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from backtesting.test import GOOG

from console.cli import build_parser, main
from console.commands.options import number
from core import bounds
from core.bounds import Bound

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))


def bound_of(action: argparse.Action) -> Bound | None:
    """The ``Bound`` an option's type checks against (see ``options.number``)."""
    cells = getattr(action.type, "__closure__", None) or ()
    found = [cell.cell_contents for cell in cells if isinstance(cell.cell_contents, Bound)]
    return found[0] if found else None


def numeric_options(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.Action, Bound]]:
    """(command words, option, its bound) for every bounded option, at every depth."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += numeric_options(sub, (*path, name))
        elif (bound := bound_of(action)) is not None:
            found.append((path, action, bound))
    return found


def bad_values(bound: Bound) -> list[str]:
    """Values ``bound`` refuses: not numbers, not finite, and just outside each end."""
    values = ["nan", "inf", "-inf", "", "ten", "1e400", "0x10"]
    if bound.low is not None:
        values.append(str(bound.low if bound.low_open else bound.low - 1))
    if bound.high is not None:
        values.append(str(bound.high if bound.high_open else bound.high * 2 + 1))
    if bound.whole:
        values.append("1.5")
    return values


OPTIONS = numeric_options(build_parser())


def test_the_table_covers_every_command_with_numbers() -> None:
    commands = {" ".join(path) for path, _, _ in OPTIONS}
    assert commands >= {
        "", "backtest", "optimize", "batch", "replay", "export pine", "export report",
        "jobs list", "jobs show", "jobs cancel", "jobs pause", "jobs resume", "jobs priority",
        "jobs work", "check run", "check waive", "audit list", "db backup", "serve",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("path", "action", "bound"),
    OPTIONS,
    ids=[f"{' '.join(p) or 'quarterdeck'} {argparse._get_action_name(a)}" for p, a, _ in OPTIONS],
)
def test_a_bad_number_is_one_line_naming_the_option_exit_2(
    path: tuple[str, ...],
    action: argparse.Action,
    bound: Bound,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = argparse._get_action_name(action)
    for value in bad_values(bound):
        given = [f"{action.option_strings[-1]}={value}"] if action.option_strings else ["--", value]
        with pytest.raises(SystemExit) as exited:
            main([*path, *given])
        out, err = capsys.readouterr()
        assert exited.value.code == 2, (value, err)
        assert out == "" and "Traceback" not in err
        assert err.count("\n") == 1, (value, err)  # one line
        prog = " ".join(("quarterdeck", *path))
        assert err.startswith(f"{prog}: argument {name}: expected "), (value, err)
        assert repr(value) in err, (value, err)


def test_no_numeric_option_goes_unchecked() -> None:
    """A bare ``type=int``/``float`` would let NaN, inf or -1 through."""

    def loose(parser: argparse.ArgumentParser, path: str) -> list[str]:
        found = []
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += loose(sub, f"{path} {name}")
            elif action.type in (int, float):
                found.append(f"{path} {argparse._get_action_name(action)}")
        return found

    assert loose(build_parser(), "quarterdeck") == []


def test_good_numbers_pass_as_numbers() -> None:
    parse = number(bounds.CASH)
    assert parse("1e6") == 1_000_000.0 and parse(" 250_000 ") == 250_000.0
    assert number(bounds.SEED)("7") == 7 and isinstance(number(bounds.SEED)("7.0"), int)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("QD_STARTING_CASH", "inf"),
        ("QD_STARTING_CASH", "1e200"),
        ("QD_STARTING_CASH", "-5"),
        ("QD_COMMISSION", "nan"),
        ("QD_COMMISSION", "1.5"),
        ("QD_POSITION_FRACTION", "0"),
        ("QD_SIM_SEED", "-1"),
        ("QD_SIM_TICK_RATE", "inf"),
        ("QD_HEALTH_INTERVAL", "nan"),
        ("QD_RISK_MAX_DRAWDOWN", "nan"),
        ("QD_RISK_MAX_ORDER_NOTIONAL", "nan"),
        ("QD_SWEEP_MAX_COMBOS", "0"),
        ("QD_SWEEP_MAX_COMBOS", "many"),
    ],
)
def test_a_bad_number_in_a_setting_exits_2_naming_it(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["jobs", "list"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and variable in err and "Traceback" not in err


def test_a_strategys_cash_in_qd_strategies_must_be_finite(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QD_STRATEGIES", '[{"id": "sma_cross", "cash": "inf"}]')
    assert main(["jobs", "list"]) == 2
    assert "QD_STRATEGIES.0.CASH" in capsys.readouterr().err


def test_infinite_risk_limits_still_mean_no_limit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QD_RISK_MAX_ORDER_NOTIONAL", "inf")
    monkeypatch.setenv("QD_RISK_DAILY_LOSS_LIMIT", "inf")
    assert main(["jobs", "list"]) == 0
    assert capsys.readouterr().out == "no jobs\n"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QUARTERDECK, *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)  # fmt: skip


def test_as_a_process_backtest_cash_inf_and_waive_days_nan_exit_2(tmp_path: Path) -> None:
    cash = run("backtest", "sma_cross", "--data", str(tmp_path / "x.csv"), "--cash", "inf")
    assert cash.returncode == 2 and cash.stdout == "" and "Traceback" not in cash.stderr
    assert cash.stderr == (
        "quarterdeck backtest: argument --cash: expected a number in (0, 1e+15], got 'inf' "
        "(--help for usage)\n"
    )
    days = run("check", "waive", "web-prod", "x", "--justification", "j", "--role", "QA",
               "--days", "nan")  # fmt: skip
    assert days.returncode == 2 and "argument --days: expected a number in (0, 3,650]" in (
        days.stderr
    )


def test_as_a_process_a_huge_cash_backtest_is_refused_and_json_stays_json(
    tmp_path: Path,
) -> None:
    data = tmp_path / "goog.csv"
    GOOG.rename_axis("Date").to_csv(data)
    huge = run("backtest", "sma_cross", "--data", str(data), "--cash", "1e200", "--json")
    assert huge.returncode == 2 and "--cash" in huge.stderr and "Traceback" not in huge.stderr
    done = run("backtest", "sma_cross", "--data", str(data), "--cash", "1e15", "--json")
    assert done.returncode == 0, done.stderr

    def strict(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    document = json.loads(done.stdout, parse_constant=strict)
    assert document["equity_final"] > 0


def test_a_config_file_cannot_give_inf_either(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("starting_cash = inf\ncommission = nan\n")  # TOML has both literals
    monkeypatch.setenv("QD_CONFIG_FILE", str(config))
    assert main(["jobs", "list"]) == 2
    err = capsys.readouterr().err
    assert f"starting_cash in {config}: Input should be a finite number" in err
    assert f"commission in {config}: Input should be a finite number" in err
