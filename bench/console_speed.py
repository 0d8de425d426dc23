"""The console under load, as an operator's terminal sees it.

    .venv/bin/python -m bench.console_speed latency [PRESSES]
    .venv/bin/python -m bench.console_speed memory [MINUTES]

``latency``: the real ``quarterdeck`` in a 120x40 pseudo-terminal, the
simulator at 10,000 ticks/s and an optimization running (queued through
``quarterdeck jobs submit`` before start; the console claims it). Keys 1 and
3 alternate between the dashboard and the jobs screen; each key's latency is
from writing it to the terminal to the first bytes of the new screen's header
arriving. ``memory``: the console replaying a long file at high speed for
MINUTES (30 by default), its resident memory sampled every 10 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from bench.terminal import QUARTERDECK, Terminal

SWITCHES = {"1": b"Dashboard", "3": b"Jobs"}
SGR = rb"(?:\x1b\[[0-9;:]*m)*"
LONG_SWEEP = {
    "strategy": "sma_cross", "dataset": "sim:SPY", "bars": 300_000,
    "grid": {"fast": [5, 60, 1], "slow": [10, 400, 1]},
}  # fmt: skip


def header(title: bytes) -> re.Pattern[bytes]:
    """The status header naming a screen: "Quarterdeck", styling, then the title."""
    return re.compile(rb"Quarterdeck " + SGR + title + rb" ")


def latency(presses: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {"QD_DATA_DIR": tmp, "QD_SIM_TICK_RATE": "10000", "QD_DEMO_JOB": "false"}
        subprocess.run(
            [str(QUARTERDECK), "jobs", "submit", "optimize", json.dumps(LONG_SWEEP)],
            env={**os.environ, **env}, check=True, capture_output=True,
        )  # fmt: skip
        terminal = Terminal(env)
        try:
            terminal.wait_for(header(b"Dashboard"), 0, timeout=60)
            time.sleep(3.0)  # the deck is up, the job claimed and running
            samples = []
            for n in range(presses):
                key = "3" if n % 2 == 0 else "1"
                since = terminal.mark()
                sent = terminal.press(key)
                drawn = terminal.wait_for(header(SWITCHES[key]), since)
                samples.append((drawn - sent) * 1000)
                time.sleep(0.15)
            running = _job_running(env)
        finally:
            terminal.close()
    ordered = np.sort(samples)
    print(
        f"{presses} screen switches, simulator 10,000 ticks/s, optimization "
        f"{'running' if running else 'NOT running (sweep too short)'} throughout:"
    )
    print(
        f"  key press to redrawn frame: p50 {np.percentile(ordered, 50):.1f} ms, "
        f"p95 {np.percentile(ordered, 95):.1f} ms, max {ordered[-1]:.1f} ms"
    )


def _job_running(env: dict[str, str]) -> bool:
    listing = subprocess.run(
        [str(QUARTERDECK), "jobs", "list", "--json"],
        env={**os.environ, **env}, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return any(job["state"] == "running" for job in json.loads(listing.stdout))


def _replay_file(path: Path, bars: int) -> None:
    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.001, bars)))
    ts = 1_600_000_000 + 60 * np.arange(bars)
    with path.open("w") as out:
        out.write("ts,open,high,low,close,volume\n")
        for t, c in zip(ts, close, strict=True):
            out.write(f"{t},{c:.4f},{c * 1.001:.4f},{c * 0.999:.4f},{c:.4f},1000\n")


def memory(minutes: float) -> None:
    bars = 1_000_000
    seconds = minutes * 60
    speed = 60 * bars / seconds  # the whole file takes the whole run
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "replay.csv"
        _replay_file(data, bars)
        env = {
            "QD_DATA_DIR": tmp, "QD_FEED": "replay", "QD_REPLAY_FILE": str(data),
            "QD_REPLAY_SPEED": f"{speed:.0f}", "QD_DEMO_JOB": "false",
        }  # fmt: skip
        terminal = Terminal(env)
        try:
            terminal.wait_for(header(b"Dashboard"), 0, timeout=60)
            process = psutil.Process(terminal.process.pid)
            samples = []
            started = time.perf_counter()
            while time.perf_counter() - started < seconds:
                samples.append((time.perf_counter() - started, process.memory_info().rss))
                time.sleep(10)
        finally:
            terminal.close()
    settled = [rss for t, rss in samples if t >= 60] or [samples[-1][1]]
    first, last, peak = settled[0], settled[-1], max(settled)
    mib = 1024 * 1024
    print(
        f"replay of {bars:,} one-minute bars at {speed:,.0f}x over {minutes:g} min: "
        f"RSS after 1 min {first / mib:.1f} MiB, at the end {last / mib:.1f} MiB "
        f"({(last - first) / first:+.1%}), peak {peak / mib:.1f} MiB "
        f"({(peak - first) / first:+.1%}); samples {len(samples)}"
    )
    print("  RSS MiB by minute: " + ", ".join(
        f"{t / 60:.0f}:{rss / mib:.0f}" for t, rss in samples if int(t) % 60 < 10
    ))  # fmt: skip


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "latency"
    if mode == "latency":
        latency(int(sys.argv[2]) if len(sys.argv) > 2 else 100)
    elif mode == "memory":
        memory(float(sys.argv[2]) if len(sys.argv) > 2 else 30.0)
    else:
        sys.exit("usage: python -m bench.console_speed latency [PRESSES] | memory [MINUTES]")
