import asyncio
import json
import math
import sqlite3
import time

import pytest

from core.access import SYSTEM, Principal, Role
from core.config import LiveStrategy, Settings
from core.deck import Deck
from core.events import (
    AlertKind,
    FeedState,
    HealthSnapshot,
    JobState,
    JobUpdate,
    PortfolioSnapshot,
    RiskSnapshot,
    RiskState,
)


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
    assert first.jobs.jobs[1].state is JobState.QUEUED  # interrupted, not cancelled

    second = Deck(settings)
    resumed = second.bus.subscribe(JobUpdate)
    await second.start()
    assert await second.submit_demo_optimization(SYSTEM) == 2
    update = await asyncio.wait_for(resumed.get(), 10)
    assert update.job_id == 1  # the interrupted job is picked up again
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


async def test_deck_trades_a_live_websocket_feed_and_reports_its_health(
    settings: Settings,
) -> None:
    """A real websockets server plays trades in the generic format: the feed builds 1 s
    bars, the configured strategy trades them, and the health snapshot carries the
    feed's latency and its alerts (the trades are minutes old: a latency alarm; one
    frame is garbage)."""
    from tests.core.feeds import samples
    from tests.core.feeds.server import ScriptedServer

    def script(_: int) -> list[str]:
        start = math.floor(time.time()) - 600.0
        prices = [100.0 + 5.0 * math.sin(i / 6.0) for i in range(400)]
        frames = [samples.generic_tick(start + i, price) for i, price in enumerate(prices)]
        frames.insert(50, "{not json")
        return frames

    server = await ScriptedServer(script).start()
    live = settings.model_copy(
        update={
            "feed": "websocket",
            "feed_sources": [f"generic={server.url}"],
            "feed_symbols": ["SPY"],
            "feed_bar_seconds": 1.0,
            "strategies": [LiveStrategy(id="sma_cross", params={"fast": 2, "slow": 5})],
        }
    )
    deck = Deck(live)
    health = deck.bus.subscribe(HealthSnapshot, latest_only=True)
    try:
        await deck.start()
        for _ in range(200):
            await asyncio.sleep(0.05)
            if deck.feed.ticks == 400 and deck.engine.events == 400 + 399:
                break
        snapshot = await asyncio.wait_for(health.get(), 5)
        while not snapshot.alerts or snapshot.feeds[0].ticks < 400:
            snapshot = await asyncio.wait_for(health.get(), 5)
    finally:
        await deck.stop()
        await server.stop()
    assert [spec.strategy.id for spec in deck.engine.specs] == ["sma_cross"]
    assert deck.engine.events == 400 + 399  # every tick, and every bar but the open one
    assert deck.engine.portfolio.fills > 10
    feed = snapshot.feeds[0]
    assert feed.source == server.url and feed.dropped == 1
    assert (
        feed.latency_p50 is not None and feed.latency_p50 > 150
    )  # the trades are 200 to 600 s old
    kinds = {alert.kind for alert in snapshot.alerts}
    assert {AlertKind.LATENCY, AlertKind.UNPARSEABLE} <= kinds


async def test_the_kill_switch_flattens_and_halts_until_an_operator_resets(
    settings: Settings,
) -> None:
    deck = Deck(settings)
    risk = deck.bus.subscribe(RiskSnapshot, latest_only=True)
    await deck.start()
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if any(p.quantity for p in deck.engine.portfolio.positions.values()):
                break
        await deck.kill(Principal("alice", Role.OPERATOR), "drill")
        assert (await asyncio.wait_for(risk.get(), 5)).state is RiskState.HALTED
        for _ in range(100):
            await asyncio.sleep(0.05)
            if not any(p.quantity for p in deck.engine.portfolio.positions.values()):
                break
        assert not any(p.quantity for p in deck.engine.portfolio.positions.values())
        fills = deck.engine.portfolio.fills
        await asyncio.sleep(1.0)  # bars keep closing, signals keep coming: nothing trades
        assert deck.engine.portfolio.fills == fills
        # every strategy is stopped, with who and why, and its own ledger is flat too
        stopped = deck.engine.stopped_by["sma_cross"]
        assert (stopped.who, stopped.why) == ("alice", "kill switch: drill")
        ledger = deck.engine.ledgers["sma_cross"]
        assert not any(p.quantity for p in ledger.positions.values())
        assert deck.engine.halt is not None and deck.engine.halt.who == "alice"
        with pytest.raises(ValueError, match="trading is halted"):
            await deck.start_strategy(Principal("alice", Role.OPERATOR), "go", "sma_cross")
        await deck.reset_risk(Principal("bob", Role.ADMIN), "drill over")
        snapshot = await asyncio.wait_for(risk.get(), 5)
        while snapshot.state is not RiskState.ACTIVE:
            snapshot = await asyncio.wait_for(risk.get(), 5)
        assert deck.engine.stopped == {"sma_cross"}  # lifting the halt starts nothing
        assert deck.engine.halt is None
        await asyncio.sleep(0.5)
        assert deck.engine.portfolio.fills == fills
        assert await deck.start_strategy(Principal("alice", Role.OPERATOR), "go", "sma_cross")
    finally:
        await deck.stop()
    database = sqlite3.connect(settings.data_dir / "quarterdeck.db")
    risk_events = [
        json.loads(row[0])
        for row in database.execute(
            "SELECT payload_json FROM journal WHERE run_id = ? AND kind = 'risk' ORDER BY seq",
            (deck.run_id,),
        )
    ]
    assert [(e["kind"], e["who"], e["why"]) for e in risk_events] == [
        ("kill", "alice", "drill"),
        ("reset", "bob", "drill over"),
    ]
    audited = database.execute("SELECT actor, action FROM audit ORDER BY seq").fetchall()
    assert audited == [("alice", "risk.kill"), ("bob", "risk.reset"),
                       ("alice", "strategy.start")]  # fmt: skip
    kill_fills = database.execute("SELECT count(*) FROM fills WHERE strategy = 'kill switch' "
                                  "AND run_id = ?", (deck.run_id,)).fetchone()[0]  # fmt: skip
    assert kill_fills == 0  # each strategy flattened its own position
