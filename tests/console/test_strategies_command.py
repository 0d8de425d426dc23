"""`quarterdeck strategies new | check | list` and a user strategy's backtest, as real
processes on a real strategies folder."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from backtesting.test import GOOG

from tests.core.test_sdk import EXAMPLE, PEEK

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "strategies"
    folder.mkdir(mode=0o700)
    return {
        **os.environ,
        "QD_DATA_DIR": str(tmp_path / "data"),
        "QD_STRATEGIES_DIR": str(folder),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def quarterdeck(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [QUARTERDECK, *args], capture_output=True, text=True, env=env, timeout=180
    )


def put(env: dict[str, str], name: str, text: str) -> Path:
    path = Path(env["QD_STRATEGIES_DIR"]) / name
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_new_writes_a_template_that_checks_sound_and_whose_test_passes(
    env: dict[str, str],
) -> None:
    made = quarterdeck(env, "strategies", "new", "my_rule")
    assert made.returncode == 0, made.stderr
    folder = Path(env["QD_STRATEGIES_DIR"])
    code, test = folder / "my_rule.py", folder / "test_my_rule.py"
    assert stat.S_IMODE(code.stat().st_mode) == 0o644 and test.is_file()
    checked = quarterdeck(env, "strategies", "check", "my_rule", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    document = json.loads(checked.stdout)
    assert document["ok"] is True and document["errors"] == []
    (report,) = document["strategies"]
    assert [c["name"] for c in report["checks"]] == [
        "imports", "parameters", "outputs", "deterministic", "look-ahead", "warm-up", "speed",
    ]  # fmt: skip
    assert report["sweep_combos_per_second"] > 0 and report["source"] == str(code)
    listed = json.loads(quarterdeck(env, "strategies", "--json").stdout)
    mine = next(s for s in listed if s["id"] == "my_rule")
    assert mine["source"] == str(code) and mine["version"] == report["version"]
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            str(test)], capture_output=True, text=True, env=env,
                           timeout=180, cwd=Path(__file__).parents[2])  # fmt: skip
    assert tests.returncode == 0, tests.stdout
    again = quarterdeck(env, "strategies", "new", "my_rule")
    assert again.returncode == 2 and "taken" in again.stderr
    builtin = quarterdeck(env, "strategies", "new", "sma_cross")
    assert builtin.returncode == 2 and "'sma_cross' is taken (a built-in)" in builtin.stderr


def test_check_fails_a_look_ahead_naming_the_bar(env: dict[str, str]) -> None:
    path = put(env, "peek.py", PEEK)
    result = quarterdeck(env, "strategies", "check", str(path))
    assert result.returncode == 1
    assert "FAIL  look-ahead     look-ahead at bar " in result.stdout
    assert result.stdout.rstrip().endswith("NOT sound")


def test_check_of_a_broken_file_names_its_line_and_exits_1(env: dict[str, str]) -> None:
    path = put(env, "broken.py", "import numpy\nimport no_such_module_xyz\n")
    result = quarterdeck(env, "strategies", "check", str(path), "--json")
    assert result.returncode == 1
    (error,) = json.loads(result.stdout)["errors"]
    assert error["error"] == f"{path}:2: ModuleNotFoundError: No module named 'no_such_module_xyz'"
    missing = quarterdeck(env, "strategies", "check", "no_such_strategy")
    assert missing.returncode == 2 and "unknown strategy 'no_such_strategy'" in missing.stderr


def test_list_json_has_the_errors_and_the_good_strategies_still_run(
    env: dict[str, str], tmp_path: Path
) -> None:
    good = put(env, "channel.py", EXAMPLE)
    put(env, "syntax.py", "def f(:\n")
    listed = quarterdeck(env, "strategies", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert any(s["id"] == "channel_breakout" for s in document["strategies"])
    assert [e["line"] for e in document["errors"]] == [1]
    assert "SyntaxError" in document["errors"][0]["message"]
    plain = quarterdeck(env, "strategies")
    assert "syntax.py:1: SyntaxError" in plain.stderr and "channel_breakout" in plain.stdout
    data = tmp_path / "goog.csv"
    GOOG.rename_axis("Date").to_csv(data)
    run = quarterdeck(env, "backtest", "channel_breakout", "--data", str(data), "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["strategy"] == "channel_breakout"
    assert result["strategy_source"] == str(good) and len(result["strategy_version"]) == 12
    builtin = json.loads(quarterdeck(env, "backtest", "sma_cross", "--data", str(data),
                                     "--json").stdout)  # fmt: skip
    assert builtin["strategy_source"] == "built-in" and len(builtin["strategy_version"]) == 12


def test_a_strategy_raising_mid_run_is_one_line_and_exit_2(
    env: dict[str, str], tmp_path: Path
) -> None:
    path = put(env, "fragile.py", EXAMPLE.replace(
        "    close = bars[\"close\"]\n",
        "    close = bars[\"close\"]\n    if n == 7:\n        raise ValueError('no sevens')\n",
    ))  # fmt: skip
    data = tmp_path / "goog.csv"
    GOOG.rename_axis("Date").to_csv(data)
    run = quarterdeck(env, "backtest", "channel_breakout", "--data", str(data), "--param", "n=7")
    assert run.returncode == 2
    assert run.stderr == (f"quarterdeck backtest: strategy code: {path}:13: "
                          "ValueError: no sevens\n")  # fmt: skip
