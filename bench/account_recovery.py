"""How long an account of 100,000 fills takes to rebuild at start-up (target: under 2 s).

A real engine trades 100,000 market orders (a fill each) into a journal on a fresh SQLite
store, committing every 50 fills with its mark (and a snapshot every 5,000 fills), as the
running Deck does; then a further 4,950, so that recovery has the most a snapshot leaves
to replay. Timed, several times: what the Deck does at start, ``load_account`` (read,
decode and replay the journal from its newest snapshot) and a new engine taking the
result up (``LiveEngine.restore``). ``--no-snapshots`` times the same account replayed
from its first entry, as it would be without snapshots.

    .venv/bin/python -m bench.account_recovery [--fills N] [--repeats R] [--no-snapshots]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from core.bus import Bus
from core.events import Side, Tick
from core.research.strategies import get_strategy
from core.store import Store, accounts
from core.trading.account import load_account
from core.trading.engine import LiveEngine, StrategySpec
from core.trading.journal import Journal
from core.trading.orders import OrderRequest
from core.trading.snapshot import SNAPSHOT_EVERY

FILLS_PER_COMMIT = 50
SPEC = StrategySpec(get_strategy("sma_cross"), {"fast": 5, "slow": 20}, ("SPY",), 1_000_000.0)


def trade(store: Store, account_id: str, fills: int, snapshot_every: int) -> None:
    """``fills`` market orders through a journaled engine, alternately buying and selling."""
    journal = Journal(store, "bench", account_id)
    engine = LiveEngine(Bus(), [SPEC], run_id="bench", journal=journal,
                        snapshot_every=snapshot_every)  # fmt: skip
    price, ts = 100.0, 1_700_000_000.0
    for i in range(fills):
        ts += 60.0
        price += 0.01 if i % 3 else -0.02
        side = Side.BUY if i % 2 == 0 else Side.SELL
        engine.execution.execute_now(OrderRequest("sma_cross", "SPY", side, 10.0),
                                     Tick("SPY", ts, price, 1.0))  # fmt: skip
        if i % FILLS_PER_COMMIT == FILLS_PER_COMMIT - 1:
            engine.checkpoint()
    engine.checkpoint()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-snapshots", action="store_true")
    args = parser.parse_args()
    snapshot_every = 10**12 if args.no_snapshots else SNAPSHOT_EVERY
    fills = args.fills + (SNAPSHOT_EVERY - FILLS_PER_COMMIT)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.db'}")
        store.create_schema()
        account = accounts.take(store, "bench", SPEC.cash)
        began = time.perf_counter()
        trade(store, account.id, fills, snapshot_every)
        print(f"{fills:,} fills traded and journaled in {time.perf_counter() - began:.1f} s")
        seconds, replayed = [], 0
        for _ in range(args.repeats):
            began = time.perf_counter()
            loaded = load_account(store, account)
            LiveEngine(Bus(), [SPEC], run_id="bench").restore(loaded.state)
            seconds.append(time.perf_counter() - began)
            assert loaded.state.portfolio.fills == fills
            replayed = len(loaded.state.fills)
        store.dispose()
    print(f"recovery of {fills:,} fills ({replayed:,} replayed after the newest snapshot): "
          f"median {statistics.median(seconds):.3f} s (min {min(seconds):.3f}, "
          f"max {max(seconds):.3f}, {args.repeats} runs)")  # fmt: skip


if __name__ == "__main__":
    main()
