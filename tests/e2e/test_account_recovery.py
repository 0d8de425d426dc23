"""`quarterdeck serve` trading a replay, killed with SIGKILL at random instants and started
again each time: the account continues, nothing acknowledged is lost or repeated, and the
end is the account of one uninterrupted run over the same bars."""

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


def environment(data_dir: Path, data_file: Path) -> dict[str, str]:
    return {**os.environ, "QD_DATA_DIR": str(data_dir), "QD_FEED": "replay",
            "QD_REPLAY_FILE": str(data_file), "QD_REPLAY_SYMBOL": "SPY",
            "QD_REPLAY_SPEED": str(3600 * 800), "QD_DEMO_JOB": "false",
            "QD_STARTING_CASH": "100000"}  # fmt: skip


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


def test_serve_killed_at_random_keeps_one_account_equal_to_an_uninterrupted_run(
    data_file: Path, tmp_path: Path
) -> None:
    last_ts = float(pd.read_csv(data_file)["timestamp"].iloc[-1])
    reference = run_to_the_end(environment(tmp_path / "reference", data_file), last_ts)
    check_invariants(reference)
    expected = fills_of(reference)
    assert len(expected) > 300

    data_dir = tmp_path / "crashing"
    env = environment(data_dir, data_file)
    rng = random.Random(20261207)
    progress: list[int] = []
    for _ in range(KILLS):
        before = journaled_fills(data_dir)
        process = serve(env)
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            if journaled_fills(data_dir) > before:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
        process.send_signal(signal.SIGKILL)
        process.wait()
        document = account(env)
        check_invariants(document)
        fills = fills_of(document)
        assert fills == expected[: len(fills)], "a fill differs from the uninterrupted run's"
        progress.append(len(fills))
    assert progress == sorted(progress)
    assert len(set(progress)) >= 6, f"the kills should land at different points: {progress}"
    assert progress[-1] < len(expected), "the replay ended before the last kill"

    final = run_to_the_end(env, last_ts)
    check_invariants(final)
    assert fills_of(final) == expected
    for figure in ("cash", "equity", "realized_pnl", "commissions", "positions", "market"):
        assert final[figure] == reference[figure], figure
    runs = {f["run_id"] for f in final["fills"]}
    assert len(runs) >= 6, "the fills should come from many runs of the one account"
