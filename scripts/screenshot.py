"""Save an SVG screenshot of the dashboard (used for the README): `make screenshot`."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path


async def capture(target: Path) -> None:
    from checks import ReadinessService
    from console.app import QuarterdeckApp
    from core.config import Settings
    from core.deck import Deck

    with tempfile.TemporaryDirectory() as data_dir:
        deck = Deck(Settings(data_dir=Path(data_dir), sim_tick_rate=4000.0))
        readiness = ReadinessService(deck)
        deck.add_service(readiness)
        app = QuarterdeckApp(deck, readiness)
        async with app.run_test(size=(120, 36)) as pilot:
            while not (deck.engine.portfolio.fills >= 4 and any(deck.jobs.jobs.values())):
                await pilot.pause(0.2)
            job = next(iter(deck.jobs.jobs.values()))
            while job.fraction < 0.3:
                await pilot.pause(0.2)
                job = deck.jobs.jobs[job.job_id]
            await pilot.pause(0.3)
            target.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(filename=target.name, path=str(target.parent))
            await deck.stop()


if __name__ == "__main__":
    asyncio.run(capture(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshot.svg")))
