"""A command the Deck refuses reaches the console as an error notification, never a crash.

The screens disable what a role may not do, but the Deck is the judge: here a
viewer's session (as an SSH session builds it) reaches the commands behind the
disabled keys directly, and the console says "refused", carries on, and the
refusal is in the audit trail with the session's source. The disabled keys and
palette commands themselves are audited as refused too, under the command's name.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.widgets import Input

from checks import ReadinessService
from console.app import QuarterdeckApp
from console.modes import MODES
from console.screens.base import DeckScreen
from core.access import Principal, Role
from core.audit import read_entries
from core.config import Settings
from core.deck import Deck
from core.events import JobState
from tests.console.frozen import frozen_app
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


def refused_bindings(screen: DeckScreen) -> list[tuple[str, Binding]]:
    """Each binding of ``screen`` a viewer may not use, with the key that presses it."""
    return [(binding.key.split(",")[0], binding) for binding in screen.BINDINGS
            if screen.denial_for(binding.action)]  # fmt: skip


def recorded_warnings(app: App[object]) -> list[str]:
    """Every warning ``app`` notifies from now on, kept (its toasts expire)."""
    warnings: list[str] = []
    notify = app.notify

    def recording(message: str, *args: Any, severity: str = "information", **kw: Any) -> None:
        if severity == "warning":
            warnings.append(str(message))
        notify(message, *args, severity=severity, **kw)  # type: ignore[arg-type]

    app.notify = recording  # type: ignore[method-assign]
    return warnings


async def test_every_key_refused_to_a_viewer_is_audited_as_denied_with_their_name(
    tmp_path,
) -> None:
    app = frozen_app(tmp_path, role=Role.VIEWER, user="victor")
    app.deck.store.create_schema()  # the frozen deck is not started: the audit needs tables
    expected: list[tuple[str, str, str, str, str]] = []
    warnings = recorded_warnings(app)  # as raised: a toast on screen expires meanwhile
    async with app.run_test(size=(120, 40)) as pilot:
        for mode in MODES.values():
            app.switch_mode(mode.name)
            await wait_until(pilot, lambda mode=mode: app.screen.id == mode.name)
            await pilot.pause(0.1)  # settled, with its focus where it puts it
            screen = app.screen
            assert isinstance(screen, DeckScreen)
            for key, binding in refused_bindings(screen):
                if isinstance(app.focused, Input):  # a key there is text, not a command
                    screen.set_focus(None)
                await pilot.press(key)
                need = screen.ACTIONS_NEED[binding.action.partition("(")[0]]
                expected.append(("victor", "denied." + need.command, binding.description,
                                 f"key {key}", "local"))  # fmt: skip
                await wait_until(pilot, lambda: len(audited(app.deck)) == len(expected))
                assert app.screen is screen  # nothing opened, nothing asked
        assert len(expected) >= 20  # jobs, readiness, research, runbook and trading keys
        assert audited(app.deck) == expected
        assert {e.detail["role"] for e in read_entries(app.deck.store, "denied.")} == {"viewer"}
        assert "Kill switch: the viewer role may not trade (needs operator)." in warnings


async def test_every_palette_command_refused_to_a_viewer_is_audited_as_denied(
    settings: Settings,
) -> None:
    app, deck = viewer_app(settings)
    expected: list[tuple[str, str, str, str]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        job_id = await deck.submit_job(Principal("root", Role.ADMIN), "optimize", LONG)
        for mode in MODES.values():
            app.switch_mode(mode.name)
            await wait_until(pilot, lambda mode=mode: app.screen.id == mode.name)
            await pilot.pause(0.2)
            for command in app.get_system_commands(app.screen):
                if not command.help.startswith("disabled: "):
                    continue
                command.callback()
                expected.append(("vic", command.title, "palette", SOURCE))
                await wait_until(pilot, lambda: len(audited(deck)) == len(expected))
        got = audited(deck)
        assert [(actor, subject, via, source) for actor, _, subject, via, source in got] == expected
        actions = {subject: action for _, action, subject, _, _ in got}
        assert actions["Kill switch"] == "denied.risk.kill"
        assert actions["Run all"] == "denied.check.run"
        cancel = f"Cancel job {job_id} ({deck.jobs.jobs[job_id].title})"
        assert actions[cancel] == "denied.job.cancel"
        assert actions["Stop strategy sma_cross"] == "denied.strategy.stop"
        deck.jobs.cancel(job_id)


def audited(deck: Deck) -> list[tuple[str, str, str, str, str]]:
    """The refusals audited: who, what action, the subject, by which way, from where."""
    return [(e.actor, e.action, e.subject, e.detail["via"], e.detail["source"])
            for e in read_entries(deck.store, "denied.")]  # fmt: skip
