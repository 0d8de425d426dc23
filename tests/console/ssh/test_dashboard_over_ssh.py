"""An SSH session's dashboard is as complete as the local one: it opens long after the
Deck started, and its panes start from what the Deck already has (jobs submitted and
readiness verdicts reached before the session), not only from events after it."""

from __future__ import annotations

from pathlib import Path

import asyncssh
from textual.widgets import DataTable

from console.app import QuarterdeckApp
from console.widgets.activity_pane import ActivityPane
from console.widgets.alerts_pane import AlertsPane
from console.widgets.equity_chart import EquityChart
from console.widgets.jobs_pane import JobsPane
from console.widgets.readiness_pane import ReadinessPane
from core.access import Principal, Role
from core.config import Settings
from core.events import Fill, Verdict
from tests.console.pilot import LONG
from tests.console.ssh.served import Screen, Served, connect, open_console, serving, until


async def test_a_session_opened_later_shows_the_jobs_and_readiness_verdicts_so_far(
    settings: Settings, tmp_path: Path
) -> None:
    # The target's database is named (the Deck's own), so some verdicts pass.
    aimed = settings.model_copy(update={"check_database_url": settings.resolved_database_url})
    async with serving(aimed, tmp_path / "keys", {"alice": Role.VIEWER}) as served:
        deck, readiness = served.deck, served.ssh.readiness
        await until(lambda: readiness.runs_completed >= 1, timeout=60)  # the start-up run
        job_id = await deck.submit_job(Principal("root", Role.ADMIN), "optimize", LONG)
        verdicts = {item: u.verdict for item, u in readiness.updates.items()}
        assert Verdict.PASS in verdicts.values()

        conn, chan, screen, app = await alice_s_dashboard(served)
        jobs = app.screen.query_one(JobsPane).query_one(DataTable)
        checks = app.screen.query_one(ReadinessPane).query_one(DataTable)
        await until(lambda: jobs.row_count >= 1 and checks.row_count == len(verdicts))
        assert str(job_id) in {key.value for key in jobs.rows}
        assert {key.value for key in checks.rows} == set(verdicts)
        assert "automated checks pass" in str(app.screen.query_one(ReadinessPane).border_subtitle)
        await screen.wait_for(b"rsi_reversion")  # the job, drawn on the client's terminal

        deck.jobs.cancel(job_id)
        chan.write(b"q")
        conn.close()


async def test_a_session_opened_later_shows_the_fills_alerts_and_equity_so_far(
    settings: Settings, tmp_path: Path
) -> None:
    async with serving(settings, tmp_path / "keys", {"alice": Role.VIEWER}) as served:
        deck = served.deck
        await until(lambda: deck.engine.portfolio.fills >= 3, timeout=60)
        await deck.kill(Principal("root", Role.ADMIN), "before alice came")
        fills_before = deck.engine.portfolio.fills

        conn, chan, _, app = await alice_s_dashboard(served)
        activity = app.screen.query_one(ActivityPane)
        alerts = app.screen.query_one(AlertsPane)
        chart = app.screen.query_one(EquityChart)
        await until(lambda: activity.fills >= fills_before and len(chart.points) >= 1)
        await until(lambda: any("before alice came" in a.message for a in alerts.alerts))
        assert any(isinstance(event, Fill) for event in activity.recent)
        chan.write(b"q")
        conn.close()


async def alice_s_dashboard(
    served: Served,
) -> tuple[asyncssh.SSHClientConnection, asyncssh.SSHClientChannel[bytes], Screen, QuarterdeckApp]:
    """Alice logs in: her connection, channel, terminal screen and console app, once its
    dashboard is mounted."""
    conn = await connect(served, "alice")
    chan, screen = await open_console(conn)
    await screen.wait_for(b"Dashboard")
    (session,) = served.ssh.sessions
    app = session.app
    assert app is not None
    await until(lambda: app.screen.id == "dashboard" and app.screen.is_mounted)
    return conn, chan, screen, app
