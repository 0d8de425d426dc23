"""A command the Deck refuses reaches the console as an error notification, never a crash.

The screens disable what a role may not do, but the Deck is the judge: here a
viewer's session (as an SSH session builds it) reaches the commands behind the
disabled keys directly, and the console says "refused", carries on, and the
refusal is in the audit trail with the session's source.
"""

from __future__ import annotations

import asyncio

from checks import ReadinessService
from console.app import QuarterdeckApp
from core.access import Principal, Role
from core.audit import read_entries
from core.config import Settings
from core.deck import Deck
from core.events import JobState
from tests.console.pilot import LONG, answer, wait_until

SOURCE = "ssh 10.0.0.9:50022"
VIEWER = Principal("vic", Role.VIEWER, source=SOURCE)


def viewer_app(settings: Settings) -> tuple[QuarterdeckApp, Deck]:
    deck = Deck(settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    return QuarterdeckApp(deck, readiness, user=VIEWER), deck


def errors(app: QuarterdeckApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


async def denials(deck: Deck) -> list[tuple[str, str, str]]:
    entries = await asyncio.to_thread(read_entries, deck.store, "denied.")
    return [(e.actor, e.action, e.detail["source"]) for e in entries]


async def test_a_refused_strategy_stop_is_an_error_notification_and_the_console_carries_on(
    settings: Settings,
) -> None:
    app, deck = viewer_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running)
        screen = app.screen
        screen._stop("sma_cross")  # what the disabled "s" key would have asked for
        await answer(pilot, "let me")
        await wait_until(pilot, lambda: any("refused" in m for m in errors(app)))
        (message,) = errors(app)
        assert message.startswith("Stop strategy sma_cross refused: vic: the viewer role")
        assert deck.engine.stopped == set()
        assert await denials(deck) == [("vic", "denied.strategy.stop", SOURCE)]
        await pilot.press("3")  # still running, still answering keys
        assert app.screen.id == "jobs"


async def test_a_refused_job_pause_is_an_error_notification_and_the_job_runs_on(
    settings: Settings,
) -> None:
    app, deck = viewer_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: deck.running)
        job_id = await deck.submit_job(Principal("root", Role.ADMIN), "optimize", LONG)
        await wait_until(pilot, lambda: deck.jobs.jobs[job_id].state is JobState.RUNNING)
        app.screen._pause(job_id)
        await wait_until(pilot, lambda: any("refused" in m for m in errors(app)))
        assert errors(app) == [f"Pause job {job_id} refused: vic: the viewer role may not run "
                               "jobs (needs operator)."]  # fmt: skip
        assert deck.jobs.jobs[job_id].state is JobState.RUNNING
        assert await denials(deck) == [("vic", "denied.job.pause", SOURCE)]
        deck.jobs.cancel(job_id)
