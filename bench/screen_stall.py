"""Does any screen, at any size, block the engine's loop? The longest block per screen.

A headless console (``App.run_test``) on a real, running Deck (simulator, engine,
job manager) that runs, as in ``quarterdeck`` and ``quarterdeck serve``, on a loop
and thread of its own (``core.deck_loop``). A heartbeat task sleeps 10 ms at a time
on the Deck's loop, another on the console's; the overshoot of each sleep is how
long that loop was held by something else. ``--one-loop`` runs the Deck on the
console's loop instead (as before issue 31, and as the tests do), to compare.
Each of the eight screens is shown, given time to settle, then
the terminal is resized through 80x24, 120x40 and 200x50 (two seconds at each);
the worst overshoot while a screen settles and while it is resized is reported.
Research is measured twice: with the Result tab showing a 5,000-bar backtest, and
with the heatmap of a 79,401-combination optimization (fast 2-200 x slow 3-400;
the evaluations are synthetic, the screen's path to draw them is the real one).
Goal (operator's shift issue): no block of the engine's loop over 50 ms.

    .venv/bin/python -m bench.screen_stall             # the table
    .venv/bin/python -m bench.screen_stall --profile research-heatmap
                                                       # cProfile of its resizes

Headless, the frames are composed (every widget renders its lines) but not
encoded or written to a terminal, so a real terminal adds a little to each
frame; ``bench.heatmap_stall`` measures the real console in a pseudo-terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import logging
import math
import os
import pstats
import random
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from console.modes import MODES
from core.config import Settings
from core.deck_loop import DeckLoop
from core.research.optimizer import Evaluation, Objective

SIZES = [(80, 24), (120, 40), (200, 50)]
SETTLE = 2.0  # seconds at each step
HEARTBEAT = 0.010
LIMIT_MS = 50.0


class Heartbeat:
    """Sleeps ``HEARTBEAT`` at a time; keeps the worst overshoot per phase, in ms."""

    def __init__(self) -> None:
        self.phase = "start"
        self.worst: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._beating: Future[None] | None = None

    def start(self, on: DeckLoop | None = None) -> None:
        """Beat on this loop, or on ``on``'s."""
        if on is None:
            self._task = asyncio.create_task(self._run())
        else:
            self._beating = on.submit(self._run())

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(HEARTBEAT)
            lag = (time.perf_counter() - before - HEARTBEAT) * 1000
            phase = self.phase
            self.worst[phase] = max(self.worst.get(phase, 0.0), lag)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._beating is not None:
            self._beating.cancel()


def synthetic_evaluations() -> list[Evaluation]:
    """79,401 sma_cross results shaped like the benchmark's sweep (fast 2-200 x slow 3-400)."""
    rng = random.Random(7)
    out = []
    for fast in range(2, 201):
        for slow in range(3, 402):
            if fast >= slow:
                continue
            sharpe = math.sin(fast / 40) * math.cos(slow / 90) + rng.gauss(0, 0.1)
            metrics = {"sharpe": sharpe, "trades": 40.0, "total_return": sharpe / 10}
            out.append(Evaluation({"fast": fast, "slow": slow}, metrics))
            if len(out) == 79_401:
                return out
    return out


async def wait_until(pilot, condition: Callable[[], object], timeout: float = 60.0) -> None:
    async def poll() -> None:
        while not condition():
            await pilot.pause(0.05)

    await asyncio.wait_for(poll(), timeout)


class GcTimer:
    """Prints every garbage collection that took over 20 ms."""

    def __init__(self) -> None:
        self.began = 0.0

    def callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.began = time.perf_counter()
        elif (took := (time.perf_counter() - self.began) * 1000) > 20:
            print(f"gc generation {info['generation']}: {took:.0f} ms")


Results = dict[str, tuple[float, float, float]]  # case: engine shown, engine resized, console


async def run(profile: str | None, why: bool = False, one_loop: bool = False) -> Results:
    from checks import ReadinessService
    from console.app import QuarterdeckApp
    from core.deck import Deck

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder) / "data", demo_job=False)
        deck = Deck(settings)
        readiness = ReadinessService(deck)
        deck.add_service(readiness)
        deck_loop = None if one_loop else DeckLoop().start()
        app = QuarterdeckApp(deck, readiness, manage_heap=True,
                             deck_loop=None if deck_loop is None else deck_loop.loop)  # fmt: skip
        beat, console_beat = Heartbeat(), Heartbeat()
        results: Results = {}
        profiler = cProfile.Profile() if profile else None
        if why:
            loop = asyncio.get_running_loop()
            loop.set_debug(True)
            loop.slow_callback_duration = 0.040
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: deck.running)
            await pilot.pause(2.0)
            if os.environ.get("BENCH_NO_GC"):  # to tell the collector's pauses apart
                gc.disable()
            beat.start(on=deck_loop)
            console_beat.start()
            cases = [(name, name) for name in MODES]
            cases.insert(2, ("research-heatmap", "research"))
            cases[1] = ("research-result", "research")
            for case, mode in cases:
                if profile and case != profile:
                    continue
                await pilot.press(MODES[mode].key)
                await wait_until(pilot, lambda mode=mode: app.screen.id == mode)
                beat.phase = console_beat.phase = f"{case} shown"
                await prepare(case, app, pilot)
                await pilot.pause(SETTLE)
                beat.phase = console_beat.phase = f"{case} resized"
                if why:
                    print(f"--- {case}: resizing")
                if profiler is not None:
                    profiler.enable()
                for columns, rows in SIZES:
                    await pilot.resize_terminal(columns, rows)
                    await pilot.pause(SETTLE)
                if profiler is not None:
                    profiler.disable()
                await pilot.resize_terminal(120, 40)
                await pilot.pause(SETTLE)
                results[case] = (beat.worst.get(f"{case} shown", 0.0),
                                 beat.worst.get(f"{case} resized", 0.0),
                                 console_beat.worst.get(f"{case} resized", 0.0))  # fmt: skip
            beat.stop()
            console_beat.stop()
            await pilot.press("q")
        if deck_loop is not None:
            deck_loop.close()
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        return results


async def prepare(case: str, app, pilot) -> None:
    """Put Research in the state the case measures."""
    screen = app.screen
    if case == "research-result":
        await screen.action_backtest()
        view = screen.query_one("#result-title")
        await wait_until(pilot, lambda: "·" in str(view.content))
    elif case == "research-heatmap":
        from console.widgets.heatmap_grid import HeatmapGrid

        evaluations = await asyncio.to_thread(synthetic_evaluations)
        screen.show_search("Job 1: sma_cross on sim:SPY (synthetic)", evaluations,
                           Objective("sharpe"), 0)  # fmt: skip
        grid = screen.query_one(HeatmapGrid)
        await wait_until(pilot, lambda: grid.heatmap is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", help="profile the resizes of this case only")
    parser.add_argument("--why", action="store_true",
                        help="name each callback holding the loop over 40 ms (asyncio debug "
                        "mode: slows everything a little) and each slow collection")  # fmt: skip
    parser.add_argument("--one-loop", action="store_true",
                        help="run the Deck on the console's loop, as before issue 31")  # fmt: skip
    args = parser.parse_args()
    if args.why:
        logging.basicConfig(level=logging.WARNING, format="%(message).300s")
        gc.callbacks.append(GcTimer().callback)
    results = asyncio.run(run(args.profile, args.why, args.one_loop))
    print(
        "the engine's loop held at most, while a screen is shown and resized; and the"
        " console's own loop, resized" + (" (one loop)" if args.one_loop else "")
    )
    print(f"{'screen':<18} {'shown':>9} {'resized':>10} {'console':>10}")
    for case, (shown, resized, console) in results.items():
        flag = "" if max(shown, resized) <= LIMIT_MS else f"  over {LIMIT_MS:.0f} ms"
        print(f"{case:<18} {shown:>6.0f} ms {resized:>7.0f} ms {console:>7.0f} ms{flag}")


if __name__ == "__main__":
    main()
