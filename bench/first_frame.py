"""Time from launching `quarterdeck` in a real terminal (tmux, 120x40) to its first
dashboard frame, and to the first frame showing live account figures.

    .venv/bin/python -m bench.first_frame [RUNS]

Polls the screen every 10 ms, so figures are good to about 10 ms. The numba
cache is warm after the first run; the first run is reported separately.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.tmux import TmuxSession

ROOT = Path(__file__).resolve().parents[1]
QUARTERDECK = Path(sys.executable).with_name("quarterdeck")


def one_run(data_dir: Path) -> tuple[float, float]:
    env = {"QD_DATA_DIR": str(data_dir), "PATH": os.environ["PATH"], "TERM": "xterm-256color"}
    terminal = TmuxSession(120, 40, env, ROOT)
    try:
        terminal.type(str(QUARTERDECK))
        started = time.perf_counter()
        terminal.press("Enter")
        first_frame = live = None
        while live is None and time.perf_counter() - started < 60:
            screen = terminal.screen()
            now = time.perf_counter() - started
            if first_frame is None and "Readiness" in screen and "Portfolio" in screen:
                first_frame = now
            if "waiting for the engine" not in screen and "Cash" in screen:
                live = now
            time.sleep(0.01)
        terminal.press("q")
        terminal.wait_for(lambda s: "Readiness" not in s, timeout=30)
        if first_frame is None or live is None:
            raise RuntimeError("the dashboard never appeared")
        return first_frame, live
    finally:
        terminal.close()


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        results = [one_run(Path(tmp) / f"run{i}") for i in range(runs + 1)]
    first, *warm = results
    print(
        f"first run (may compile numba kernels): frame {first[0] * 1000:.0f} ms, "
        f"live {first[1] * 1000:.0f} ms"
    )
    frames = [r[0] * 1000 for r in warm]
    lives = [r[1] * 1000 for r in warm]
    print(
        f"{runs} warm runs: first frame median {statistics.median(frames):.0f} ms "
        f"(min {min(frames):.0f}, max {max(frames):.0f}); live figures median "
        f"{statistics.median(lives):.0f} ms (min {min(lives):.0f}, max {max(lives):.0f})"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
