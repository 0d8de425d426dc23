"""`quarterdeck serve`, and the console in a real terminal, trading a replay, killed with
SIGKILL at random instants (or quit) and started again each time: the account continues,
nothing acknowledged is lost or repeated, and the end is the account of one uninterrupted
run over the same bars."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from core.market.history import simulated_bars
from tests.e2e.tmux import TmuxSession

ROOT = Path(__file__).resolve().parents[2]
QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))
BARS = 12_000
KILLS = 10
FILL_FIELDS = ("id", "ts", "symbol", "side", "quantity", "price", "commission", "strategy")


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bars = simulated_bars("SPY", 5, BARS, 3600, 60)
    frame = pd.DataFrame({k: bars[k] for k in ("open", "high", "low", "close", "volume")})
    frame.insert(0, "timestamp", bars["ts"].astype("int64"))
    path = tmp_path_factory.mktemp("data") / "spy.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def reference(data_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The account of one uninterrupted run of the whole replay."""
    data_dir = tmp_path_factory.mktemp("reference")
    document = run_to_the_end(environment(data_dir, data_file), last_bar(data_file))
    check_invariants(document)
    assert len(document["fills"]) > 300
    return document


def last_bar(data_file: Path) -> float:
    return float(pd.read_csv(data_file)["timestamp"].iloc[-1])


def environment(data_dir: Path, data_file: Path) -> dict[str, str]:
    return {**os.environ, "QD_DATA_DIR": str(data_dir), "QD_FEED": "replay",
            "QD_REPLAY_FILE": str(data_file), "QD_REPLAY_SYMBOL": "SPY",
            "QD_REPLAY_SPEED": str(3600 * 800), "QD_DEMO_JOB": "false",
            "QD_STARTING_CASH": "100000", "QD_RISK_DAILY_LOSS_LIMIT": "inf",
            "QD_RISK_MAX_DRAWDOWN": "1"}  # fmt: skip


def serve(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([QUARTERDECK, "serve", "--ssh-port", "0"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def account(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([QUARTERDECK, "account", "--json"], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def journaled_fills(data_dir: Path) -> int:
    try:
        with sqlite3.connect(data_dir / "quarterdeck.db", timeout=5) as connection:
            return connection.execute("SELECT count(*) FROM fills").fetchone()[0]
    except sqlite3.OperationalError:  # no database or table yet
        return 0


def run_to_the_end(env: dict[str, str], last_ts: float) -> dict[str, Any]:
    """Start serve, wait until the engine has handled the last bar, stop it with SIGTERM."""
    process = serve(env)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                market = account(env)["market"]
            except AssertionError:  # no account yet
                continue
            if market and market[0]["ts"] == last_ts and market[0]["event"] == "bar":
                break
        else:
            pytest.fail("the replay did not reach its last bar in time")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    return account(env)


def fills_of(document: dict[str, Any]) -> list[tuple]:
    return [tuple(f[k] for k in FILL_FIELDS) for f in document["fills"]]


def check_invariants(document: dict[str, Any]) -> None:
    fills = document["fills"]
    ids = [f["id"] for f in fills]
    assert ids == list(range(1, len(fills) + 1)), "fill ids repeat or skip"
    times = [f["ts"] for f in fills]
    assert times == sorted(times), "fill times went back"
    cash, held = document["starting_cash"], {}
    for f in fills:
        signed = (1 if f["side"] == "buy" else -1) * f["quantity"]
        cash -= signed * f["price"] + f["commission"]
        held[f["symbol"]] = held.get(f["symbol"], 0.0) + signed
    assert document["cash"] == cash  # exactly: the same sums in the same order
    positions: dict[str, float] = {}
    for p in document["positions"]:
        positions[p["symbol"]] = positions.get(p["symbol"], 0.0) + p["quantity"]
    assert positions == {s: q for s, q in held.items() if q}


def wait_for_new_fills(
    data_dir: Path, before: int, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + 60
    while (process is None or process.poll() is None) and time.monotonic() < deadline:
        if journaled_fills(data_dir) > before:
            return
        time.sleep(0.02)


def check_against(reference: dict[str, Any], document: dict[str, Any]) -> int:
    """The account is a prefix of the uninterrupted run's; returns how many fills it has."""
    check_invariants(document)
    fills = fills_of(document)
    assert fills == fills_of(reference)[: len(fills)], "a fill differs from the reference's"
    return len(fills)


def finish_and_compare(env: dict[str, str], data_file: Path, reference: dict[str, Any]) -> None:
    final = run_to_the_end(env, last_bar(data_file))
    check_invariants(final)
    assert fills_of(final) == fills_of(reference)
    for figure in ("cash", "equity", "realized_pnl", "commissions", "positions", "market"):
        assert final[figure] == reference[figure], figure


def test_serve_killed_at_random_keeps_one_account_equal_to_an_uninterrupted_run(
    data_file: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    data_dir = tmp_path / "crashing"
    env = environment(data_dir, data_file)
    rng = random.Random(20261207)
    progress: list[int] = []
    for _ in range(KILLS):
        before = journaled_fills(data_dir)
        process = serve(env)
        wait_for_new_fills(data_dir, before, process)
        time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait()
        progress.append(check_against(reference, account(env)))
    assert progress == sorted(progress)
    assert len(set(progress)) >= 6, f"the kills should land at different points: {progress}"
    assert progress[-1] < len(reference["fills"]), "the replay ended before the last kill"
    finish_and_compare(env, data_file, reference)
    runs = {f["run_id"] for f in account(env)["fills"]}
    assert len(runs) >= 6, "the fills should come from many runs of the one account"


def test_console_quit_or_killed_keeps_one_account_equal_to_an_uninterrupted_run(
    data_file: Path, reference: dict[str, Any], tmp_path: Path
) -> None:
    data_dir = tmp_path / "console"
    env = environment(data_dir, data_file)
    terminal = TmuxSession(120, 40, {k: env[k] for k in env if k.startswith(("QD_", "PATH"))}
                           | {"TERM": "xterm-256color", "HOME": str(tmp_path)}, ROOT)  # fmt: skip
    rng = random.Random(7)
    try:
        progress: list[int] = []
        for ending in ("q", "kill", "q", "kill"):
            before = journaled_fills(data_dir)
            terminal.type(f'{QUARTERDECK}; echo "EXIT=$?"')
            terminal.press("Enter")
            terminal.wait_for(lambda s: "Portfolio" in s and "acct" in s, timeout=60)
            wait_for_new_fills(data_dir, before)
            time.sleep(rng.uniform(0.0, 0.4))
            if ending == "q":
                terminal.press("q")
                terminal.wait_for(lambda s: "EXIT=0" in s, timeout=60)
            else:
                console = child_pid(terminal.shell_pid())
                os.kill(console, signal.SIGKILL)
                terminal.wait_for(lambda s: "EXIT=137" in s, timeout=60)
            terminal.press("clear", "Enter")
            progress.append(check_against(reference, account(env)))
        assert progress == sorted(progress) and len(set(progress)) == len(progress), progress
        # the next start shows the account it recovered, and how long it has run
        terminal.type(f'{QUARTERDECK}; echo "EXIT=$?"')
        terminal.press("Enter")
        screen = terminal.wait_for(lambda s: "recovered" in s, timeout=60)
        assert "acct " in screen
        terminal.press("q")
        terminal.wait_for(lambda s: "EXIT=0" in s, timeout=60)
    finally:
        terminal.close()
    finish_and_compare(env, data_file, reference)


def child_pid(shell_pid: int) -> int:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(shell_pid)], capture_output=True,
                         text=True, check=True)  # fmt: skip
    return int(out.stdout.split()[0])
