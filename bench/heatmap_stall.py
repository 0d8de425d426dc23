"""Does a big heatmap stall the engine? /health latency while the console shows one.

An optimization of 79,401 sma_cross combinations (fast 2-200 x slow 3-400) is queued
and the real console opens on it in a pseudo-terminal with `--http-port`; it claims the
job and runs it to the end. Then a thread asks `/health` every 20 ms while the console
goes to Research, opens the heatmap (`h`) and the terminal is resized through five
sizes. The HTTP server answers on the Deck's loop (the engine's; the console has
its own since issue 31), so a slow `/health` is a stalled engine. Goals (operator's
shift issue): every answer under 250 ms, and the engine's tick-to-order p99 kept.

    .venv/bin/python -m bench.heatmap_stall
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.terminal import QUARTERDECK, Terminal
from core.trading.latency import SAMPLES_KEPT

JOB = {"strategy": "sma_cross", "dataset": "sim:SPY", "method": "grid", "objective": "sharpe",
       "grid": {"fast": [2, 200, 1], "slow": [3, 400, 1]}}  # fmt: skip
SIZES = [(100, 30), (160, 50), (80, 24), (200, 50), (120, 40)]
LIMIT_MS = 250
#: Faster than the default (400 ticks/s, 15 s bars), so the engine's default strategy
#: trades often enough for a p99 of its tick-to-order latency within each phase.
FAST_MARKET = {"QD_SIM_TICK_RATE": "4000", "QD_SIM_BAR_SECONDS": "1"}
LATENCY = re.compile(rb'quarterdeck_tick_to_order_seconds\{quantile="([0-9.]+)"\} ([0-9.e+-]+)')
SAMPLES = re.compile(rb"quarterdeck_tick_to_order_samples_total ([0-9.e+]+)")


def tick_to_order(port: int) -> tuple[dict[str, float], int]:
    """The engine's tick-to-order quantiles (ms) over its newest orders, and its count."""
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=60).content
    quantiles = {q.decode(): float(v) * 1000 for q, v in LATENCY.findall(body)}
    count = SAMPLES.search(body)
    return quantiles, int(float(count.group(1))) if count else 0


def fill_the_window(port: int, since: int, step: Callable[[], None],
                    rounds: int = 60) -> tuple[dict[str, float], int]:  # fmt: skip
    """Repeat ``step`` until the engine has placed a window's worth of orders after the
    count ``since`` (or ``rounds`` are done), then read the quantiles."""
    for _ in range(rounds):
        step()
        quantiles, count = tick_to_order(port)
        if count - since >= SAMPLES_KEPT:
            break
    return quantiles, count


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def queue_the_sweep(env: dict[str, str]) -> None:
    subprocess.run([QUARTERDECK, "jobs", "submit", "optimize", json.dumps(JOB)], env=env,
                   check=True, capture_output=True)  # fmt: skip


def wait_for_the_sweep(env: dict[str, str]) -> None:
    began = time.perf_counter()
    while True:
        shown = subprocess.run([QUARTERDECK, "jobs", "show", "1", "--json"], env=env,
                               check=True, capture_output=True, text=True)  # fmt: skip
        if json.loads(shown.stdout)["state"] == "done":
            break
        time.sleep(1)
    print(f"the console ran the sweep to the end in {time.perf_counter() - began:.0f} s")


class HealthProbe(threading.Thread):
    """Asks ``/health`` every 20 ms and keeps every answer's latency, in ms."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.url = f"http://127.0.0.1:{port}/health"
        self.latencies: list[float] = []
        self.slow: list[tuple[float, float]] = []  # when (perf_counter) and how long, ms
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=60) as client:
            while not self.done.is_set():
                began = time.perf_counter()
                client.get(self.url)
                latency = (time.perf_counter() - began) * 1000
                self.latencies.append(latency)
                if latency >= LIMIT_MS:
                    self.slow.append((began, latency))
                time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks-per-second", type=int, default=4000,
                        help="the simulator's tick rate (QD_SIM_TICK_RATE; the default "
                        "market is 400)")  # fmt: skip
    market = {**FAST_MARKET,
              "QD_SIM_TICK_RATE": str(parser.parse_args().ticks_per_second)}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "QD_DATA_DIR": str(Path(folder) / "data"), "QD_DEMO_JOB": "false",
               **market}  # fmt: skip
        queue_the_sweep(env)
        port = free_port()
        console_env = {k: v for k, v in env.items() if k.startswith(("QD_", "HOME", "PYTHON"))}
        terminal = Terminal(console_env, 120, 40, args=["--http-port", str(port)])
        probe = HealthProbe(port)
        steps: list[tuple[str, float]] = []
        try:
            terminal.wait_for(re.compile(rb"Portfolio"), 0, timeout=60)
            wait_for_the_sweep(env)
            # at rest: the engine trades, the console shows the dashboard, until the
            # engine's window of samples holds only orders placed after the sweep
            at_rest = fill_the_window(port, tick_to_order(port)[1], lambda: time.sleep(2))
            probe.start()
            time.sleep(1)
            steps.append(("research screen", time.perf_counter()))
            terminal.press("2")
            time.sleep(3)
            mark = terminal.mark()
            steps.append(("heatmap", time.perf_counter()))
            terminal.press("h")
            terminal.wait_for(re.compile(rb"best"), mark, timeout=120)
            time.sleep(2)

            def resize_through_the_sizes() -> None:
                for columns, rows in SIZES:
                    steps.append((f"resize {columns}x{rows}", time.perf_counter()))
                    terminal.resize(columns, rows)
                    time.sleep(2)

            # as many rounds of resizes as it takes for the window to hold only their orders
            during = fill_the_window(port, at_rest[1], resize_through_the_sizes)
        finally:
            probe.done.set()
            probe.join(timeout=60)
            terminal.close()
    latencies = sorted(probe.latencies)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    slow = sum(1 for value in latencies if value >= LIMIT_MS)
    for began, latency in probe.slow:
        name, at = max((step for step in steps if step[1] <= began), key=lambda step: step[1],
                       default=("before the first step", began))  # fmt: skip
        print(f"  {latency:,.0f} ms, {began - at:.1f} s after: {name}")
    (rest, rest_count), (run, run_count) = at_rest, during
    print(f"tick-to-order at rest (the newest {SAMPLES_KEPT:,} orders): "
          f"p50 {rest.get('0.5', 0):.1f} ms, p99 {rest.get('0.99', 0):.1f} ms")  # fmt: skip
    print(f"tick-to-order during the heatmap and resizes ({run_count - rest_count:,} orders, "
          f"the newest {SAMPLES_KEPT:,} counted): p50 {run.get('0.5', 0):.1f} ms, "
          f"p99 {run.get('0.99', 0):.1f} ms")  # fmt: skip
    print(
        f"/health answers: {len(latencies)}, median {statistics.median(latencies):.1f} ms, "
        f"p99 {p99:.0f} ms, worst {latencies[-1]:.0f} ms, {slow} at or over {LIMIT_MS} ms"
    )


if __name__ == "__main__":
    main()
