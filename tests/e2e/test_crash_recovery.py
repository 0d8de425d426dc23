"""`quarterdeck replay --journal` killed with SIGKILL at random instants and restarted:
no fill lost, none duplicated, and the run ends exactly where an uninterrupted one does."""

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

import pandas as pd
import pytest

from core.market.history import simulated_bars
from core.store import Store
from core.trading.journal import Journal, recover

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))
CASH = 100_000.0
KILLS = 8


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bars = simulated_bars("SPY", 11, 60_000, 3600, 60)  # ~3,900 fills over ~3 s of replay
    frame = pd.DataFrame({k: bars[k] for k in ("open", "high", "low", "close", "volume")})
    frame.insert(0, "timestamp", bars["ts"].astype("int64"))
    path = tmp_path_factory.mktemp("data") / "spy.csv"
    frame.to_csv(path, index=False)
    return path


def command(data: Path, journal: Path) -> list[str]:
    return [QUARTERDECK, "replay", "donchian_breakout", "--data", str(data), "--commission",
            "0.001", "--cash", str(CASH), "--journal", str(journal), "--run-id", "crash",
            "--json"]  # fmt: skip


def journaled_fill_count(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        try:
            query = "SELECT count(*) FROM journal WHERE kind = 'fill'"
            return connection.execute(query).fetchone()[0]
        except sqlite3.OperationalError:  # the table is not there yet
            return 0


def kill_once_it_has_moved_on(process: subprocess.Popen, journal: Path, rng: random.Random) -> None:
    """SIGKILL at a random instant after the run has journaled something new, so every
    kill lands at a different point of the run (or after it ended)."""
    before = journaled_fill_count(journal)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if journaled_fill_count(journal) > before:
            break
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.3))
    process.send_signal(signal.SIGKILL)
    process.wait()


def journal_fills(path: Path) -> list[tuple]:
    store = Store(f"sqlite:///{path}")
    try:
        entries = Journal(store, "crash").read()
    finally:
        store.dispose()
    state = recover(entries, CASH)
    fills = [(f.fill_id, f.order_id, f.side.value, f.quantity, f.price) for f in state.fills]
    implied_cash = CASH - sum(
        (1 if side == "buy" else -1) * q * p for _, _, side, q, p in fills
    ) - sum(f.commission for f in state.fills)  # fmt: skip
    assert state.portfolio.cash == pytest.approx(implied_cash, abs=1e-6)  # summed another way
    return fills


def test_sigkill_at_random_instants_loses_and_duplicates_nothing(
    data_file: Path, tmp_path: Path
) -> None:
    done = subprocess.run(command(data_file, tmp_path / "reference.db"), capture_output=True,
                          text=True, timeout=300, env=os.environ)  # fmt: skip
    assert done.returncode == 0, done.stderr
    reference = json.loads(done.stdout)
    expected = [(f["fill_id"], f["order_id"], f["side"], f["quantity"], f["price"])
                for f in reference["fills"]]  # fmt: skip
    assert len(expected) > 1000

    journal = tmp_path / "crash.db"
    rng = random.Random(20261123)
    progress = []
    for _ in range(KILLS):
        process = subprocess.Popen(command(data_file, journal), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, env=os.environ)  # fmt: skip
        kill_once_it_has_moved_on(process, journal, rng)
        fills = journal_fills(journal)
        # nothing lost, nothing duplicated: what was journaled is the reference's prefix
        assert fills == expected[: len(fills)]
        progress.append(len(fills))
    assert progress == sorted(progress)
    assert len(set(progress)) >= 5, f"the kills should land at different points: {progress}"
    assert progress[0] < len(expected)

    finished = subprocess.run(command(data_file, journal), capture_output=True, text=True,
                              timeout=300, env=os.environ)  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    result = json.loads(finished.stdout)
    assert result["fills"] == reference["fills"]
    assert result["trades"] == reference["trades"]
    assert result["equity_final"] == reference["equity_final"]
    assert result["portfolio"] == reference["portfolio"]
    assert journal_fills(journal) == expected
