"""Pilot tests of the dashboard: panes present, live values, clean quit."""

from __future__ import annotations

import asyncio
import io
import re

from rich.console import Console
from textual.widgets import DataTable, Static

from checks import ReadinessService
from console.app import QuarterdeckApp
from console.widgets.health_pane import HealthPane
from console.widgets.jobs_pane import JobsPane
from console.widgets.portfolio_pane import PortfolioPane
from console.widgets.readiness_pane import ReadinessPane
from core.config import Settings
from core.deck import Deck
from tests.console.pilot import wait_until


def make_app(settings: Settings) -> tuple[QuarterdeckApp, Deck]:
    deck = Deck(settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    return QuarterdeckApp(deck, readiness), deck


def static_text(app: QuarterdeckApp, selector: str) -> str:
    """The plain text a Static currently shows."""
    console = Console(width=100, file=io.StringIO(), record=True)
    console.print(app.screen.query_one(selector, Static).content)
    return console.export_text()


async def test_dashboard_shows_the_four_panes(settings: Settings) -> None:
    app, _ = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = pilot.app.screen
        assert screen.id == "dashboard"
        for pane in (PortfolioPane, JobsPane, HealthPane, ReadinessPane):
            assert len(screen.query(pane)) == 1
        await pilot.press("q")
    assert app.return_code == 0


async def test_portfolio_and_health_values_change_as_the_simulator_runs(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: "Equity" in static_text(app, "#portfolio-figures"))
        first = static_text(app, "#portfolio-figures")
        await wait_until(pilot, lambda: static_text(app, "#portfolio-figures") != first)
        await wait_until(pilot, lambda: deck.engine.portfolio.fills > 0)
        positions = app.screen.query_one("#positions", DataTable)
        await wait_until(pilot, lambda: positions.row_count > 0)
        await wait_until(pilot, lambda: "ticks/s" in static_text(app, "#health-figures"))
        figures = static_text(app, "#health-figures")
        assert "Loop lag" in figures and re.search(r"Memory .* · host \d+%", figures), figures
        assert re.search(r"Disk\s+\d+% used · [\d.]+ [KMG]iB free", figures), figures
        assert re.search(r"Open files\s+[\d,]+ of [\d,]+", figures), figures
        await pilot.press("q")


async def test_jobs_pane_shows_the_optimizer_job_progressing(settings: Settings) -> None:
    app, deck = make_app(settings.model_copy(update={"demo_job": True}))
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.screen.query_one("#jobs", DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        await wait_until(pilot, lambda: deck.jobs.jobs[1].done > 0)
        await pilot.pause(0.3)
        title, progress = str(table.get_row("1")[1]).split("\n")
        # Shortened to the column, so that the progress line is not wrapped out of view.
        assert title == "sma_cross sim:BTCU… · optimize · running"
        assert re.match(r"^.{10}\s*\d+%  [\d,]+/s · ETA \d", progress)
        await pilot.press("q")


async def test_readiness_pane_lists_the_checklist_and_probes_pass(settings: Settings) -> None:
    # The target's database is named (this Deck's own), so its items have a verdict.
    app, _ = make_app(settings.model_copy(
        update={"check_database_url": settings.resolved_database_url}))  # fmt: skip
    async with app.run_test(size=(120, 40)) as pilot:
        readiness = app.readiness
        assert readiness is not None
        table = app.screen.query_one("#checks", DataTable)
        await wait_until(pilot, lambda: readiness.checklist is not None)
        total = len(readiness.checklist.items)
        await wait_until(pilot, lambda: table.row_count == total)
        await wait_until(pilot, lambda: "pass" in str(table.get_row("database.sqlite_wal")[0]))
        assert "manual" in str(table.get_row("security.data_at_rest")[0])
        await pilot.press("q")


async def test_quitting_stops_every_task_and_flushes_the_store(settings: Settings) -> None:
    before = set(asyncio.all_tasks())
    app, deck = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: deck.running and deck.engine.portfolio.fills > 0)
        await pilot.press("q")
        await wait_until(pilot, lambda: not deck.running)
    assert app.return_code == 0
    assert not deck.running
    leftover = {t for t in asyncio.all_tasks() - before if not t.done()}
    assert {t.get_name() for t in leftover} <= {asyncio.current_task().get_name()}
    import sqlite3

    database = settings.data_dir / "quarterdeck.db"
    stored = sqlite3.connect(database).execute("SELECT count(*) FROM fills").fetchone()[0]
    assert stored == deck.engine.portfolio.fills


async def test_engine_start_failure_is_reported_and_the_ui_stays_up(
    settings: Settings, tmp_path
) -> None:
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where the database folder should be")
    broken = settings.model_copy(update={"database_url": f"sqlite:///{blocked}/q.db"})
    app, _ = make_app(broken)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: len(app._notifications) > 0)
        notification = next(iter(app._notifications))
        assert "failed to start" in notification.message
        assert app.is_running
        await pilot.press("q")
    assert app.return_code == 0


async def test_risk_gauges_strategies_and_feed_alerts_are_shown(settings: Settings) -> None:
    from core.config import LiveStrategy
    from core.events import AlertKind, AlertRaised, FeedAlert, Severity

    two = settings.model_copy(
        update={
            "risk_max_position_notional": 600_000.0,
            "strategies": [LiveStrategy(id="sma_cross"), LiveStrategy(id="ema_cross")],
        }
    )
    app, deck = make_app(two)
    async with app.run_test(size=(140, 50)) as pilot:
        await wait_until(pilot, lambda: "position notional" in static_text(app, "#portfolio-risk"))
        risk = static_text(app, "#portfolio-risk")
        assert "ACTIVE" in risk
        # every limit is shown; the ones left unset (here, by the tests' settings) say so
        assert re.search(r"daily loss\s+no limit", risk)
        assert re.search(r"position notional\s+\S*\s*\d+%", risk)  # set: a gauge
        strategies = static_text(app, "#portfolio-strategies")
        assert "sma_cross" in strategies and "ema_cross" in strategies
        deck.bus.publish(FeedAlert("simulator", AlertKind.SPIKE, "BTCUSD moved 9 sigma", 0.0))
        await wait_until(pilot, lambda: "moved 9 sigma" in static_text(app, "#alerts"))
        deck.bus.publish(AlertRaised("job_failures", Severity.WARNING, "",
                                     "3 jobs failed in the last hour", 0.0))  # fmt: skip
        await wait_until(pilot, lambda: "3 jobs failed" in static_text(app, "#alerts"))
        assert "job failures: 3 jobs failed" in static_text(app, "#alerts")
        webhook = deck.breakers.get("alert webhook")
        for _ in range(webhook.failures_to_open):
            webhook.failed("HTTP 503")
        await wait_until(
            pilot, lambda: "Circuit alert webhook" in static_text(app, "#health-figures")
        )
        assert "open · HTTP 503" in static_text(app, "#health-figures")
        await pilot.press("q")
