import asyncio
import sqlite3

from core.config import Settings
from core.deck import Deck
from core.events import FeedState, HealthSnapshot, JobState, JobUpdate, PortfolioSnapshot


class RecordingService:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name = log, name

    async def start(self) -> None:
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")


def own_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_deck_runs_the_simulator_through_the_engine_and_stops_cleanly(
    settings: Settings,
) -> None:
    before = own_tasks()
    deck = Deck(settings)
    calls: list[str] = []
    deck.add_service(RecordingService(calls, "a"))
    deck.add_service(RecordingService(calls, "b"))
    events = deck.bus.subscribe(PortfolioSnapshot, HealthSnapshot, latest_only=True)
    await deck.start()
    assert deck.running
    seen_health = False
    for _ in range(100):
        await asyncio.sleep(0.05)
        seen_health |= any(isinstance(e, HealthSnapshot) for e in events.drain())
        if deck.engine.portfolio.fills and seen_health:
            break
    assert deck.engine.portfolio.fills > 0
    assert seen_health
    assert deck.feed.state is FeedState.LIVE
    await deck.stop()
    await deck.stop()  # idempotent
    assert calls == ["start a", "start b", "stop b", "stop a"]
    assert own_tasks() <= before  # every task the deck started is gone
    database = settings.data_dir / "quarterdeck.db"
    fills = sqlite3.connect(database).execute("SELECT count(*) FROM fills").fetchone()[0]
    assert fills == deck.engine.portfolio.fills  # nothing acknowledged was lost at shutdown


async def test_demo_job_runs_and_a_restart_continues_job_ids(settings: Settings) -> None:
    first = Deck(settings.model_copy(update={"demo_job": True}))
    updates = first.bus.subscribe(JobUpdate)
    await first.start()
    update = await asyncio.wait_for(updates.get(), 10)
    assert update.job_id == 1 and update.kind == "optimize" and "sma_cross" in update.title
    while update.state is not JobState.RUNNING or update.done == 0:
        update = await asyncio.wait_for(updates.get(), 30)
    await first.stop()
    assert first.jobs.jobs[1].state is JobState.CANCELLED

    second = Deck(settings)
    await second.start()
    assert second.submit_demo_optimization() == 2
    await second.stop()


async def test_deck_trades_a_replayed_file_and_journals_every_fill(
    settings: Settings, tmp_path
) -> None:
    import pandas as pd

    from core.market.history import simulated_bars

    bars = simulated_bars("SPY", 3, 2_000, 3600, 60)
    frame = pd.DataFrame({k: bars[k] for k in ("open", "high", "low", "close", "volume")})
    frame.insert(0, "timestamp", bars["ts"].astype("int64"))
    path = tmp_path / "spy.csv"
    frame.to_csv(path, index=False)
    replay = settings.model_copy(
        update={"feed": "replay", "replay_file": path, "replay_symbol": "SPY", "replay_speed": 0}
    )
    deck = Deck(replay)
    assert deck.settings.symbols == ["SPY"]
    await deck.start()
    await asyncio.wait_for(deck.feed.wait(), 60)
    for _ in range(200):
        await asyncio.sleep(0.05)
        if deck.engine.events == 2 * len(bars["ts"]):
            break
    await deck.stop()
    assert deck.engine.events == 2 * len(bars["ts"]) and deck.engine.portfolio.fills > 10
    database = sqlite3.connect(settings.data_dir / "quarterdeck.db")
    journaled = database.execute(
        "SELECT count(*) FROM journal WHERE kind = 'fill' AND run_id = ?", (deck.run_id,)
    ).fetchone()[0]
    assert journaled == deck.engine.portfolio.fills
