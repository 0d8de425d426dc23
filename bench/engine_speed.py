"""Live path speed: market events through the quality gate, the strategy, validation,
risk, the paper broker and a batched journal on SQLite, in one process.

    .venv/bin/python -m bench.engine_speed

Replays 60,000 simulated hourly SPY bars (120,000 events: a tick at each open,
then the bar) through ``sma_cross`` 10/30, committing the journal every 1,000
events as the engine loop does per drained batch. Reports events per second
over the whole path and tick-to-order latency: the time from a tick reaching
the engine to its order being filled, for the ticks that carry an order.

Then the same for ``ema_cross`` 12/26, a recursive rule: the engine runs its
kernel over up to ``RECURSIVE_HISTORY`` trailing bars at each close, so this
is the slow end of the library.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from core.bus import Bus
from core.events import Bar, Tick
from core.market.feeds import QualityFilter
from core.market.history import simulated_bars
from core.research.strategies import get_strategy
from core.store import Store
from core.trading.engine import LiveEngine, StrategySpec
from core.trading.fill_model import FillModel
from core.trading.journal import Journal

BATCH = 1_000


def events(bars: dict[str, np.ndarray]) -> list[Tick | Bar]:
    out: list[Tick | Bar] = []
    columns = [bars[k].tolist() for k in ("ts", "open", "high", "low", "close", "volume")]
    for ts, o, h, lo, c, v in zip(*columns, strict=True):
        out += [Tick("SPY", ts, o, 0.0), Bar("SPY", ts, o, h, lo, c, v)]
    return out


def run(
    stream: list[Tick | Bar], folder: Path, strategy_id: str, params: dict[str, int]
) -> tuple[float, list[float], int, int]:
    store = Store(f"sqlite:///{folder / 'journal.db'}")
    store.create_schema()
    bus = Bus()
    gate = QualityFilter(bus, "bench", ["SPY"])
    spec = StrategySpec(get_strategy(strategy_id), params, ("SPY",), 1e6)
    journal = Journal(store, "bench")
    engine = LiveEngine(bus, [spec], run_id="bench", fill_model=FillModel(0.0005),
                        journal=journal)  # fmt: skip
    book = engine.books[strategy_id, "SPY"]
    latencies: list[float] = []
    started = time.perf_counter()
    for i, event in enumerate(stream, start=1):
        if not gate.admit(event):
            continue
        if isinstance(event, Tick) and book.pending != -128:
            before = time.perf_counter()
            engine.handle(event)
            latencies.append(time.perf_counter() - before)
        else:
            engine.handle(event)
        if i % BATCH == 0:
            journal.commit()
            engine.publish()
    journal.commit()
    engine.publish()
    elapsed = time.perf_counter() - started
    store.dispose()
    return len(stream) / elapsed, latencies, engine.portfolio.fills, sum(gate.counts.values())


def measure(stream: list[Tick | Bar], strategy_id: str, params: dict[str, int]) -> None:
    results = []
    for _ in range(4):  # the first is the warm-up
        with tempfile.TemporaryDirectory() as folder:
            results.append(run(stream, Path(folder), strategy_id, params))
    rates = [r[0] for r in results[1:]]
    latencies = sorted(x for r in results[1:] for x in r[1])
    p50 = latencies[len(latencies) // 2] * 1e6
    p99 = latencies[int(len(latencies) * 0.99)] * 1e6
    print(f"{strategy_id} {params}")
    print(f"  events: {len(stream):,}  fills per run: {results[-1][2]:,}  "
          f"dropped by the quality gate: {results[-1][3]:,}")  # fmt: skip
    print(f"  events/s (median of 3): {statistics.median(rates):,.0f}")
    print(f"  tick-to-order latency: p50 {p50:,.0f} us, p99 {p99:,.0f} us "
          f"({len(latencies):,} orders)")  # fmt: skip


def main() -> None:
    logging.disable(logging.WARNING)  # the gate logs each drop; the count is printed below
    stream = events(simulated_bars("SPY", 11, 60_000, 3600, 60))
    measure(stream, "sma_cross", {"fast": 10, "slow": 30})
    measure(stream, "ema_cross", {"fast": 12, "slow": 26})


if __name__ == "__main__":
    main()
