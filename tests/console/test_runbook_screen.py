"""Pilot tests of the runbook screen: a step per Enter, a confirmation before each step that
changes something, the run audited as `quarterdeck runbook run` audits it, the RTO timer."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import RichLog

from checks.runbooks import load_runbook
from console.screens.confirm import ConfirmScreen
from console.widgets.rto_timer import RtoTimer
from core.access import Role
from core.audit import read_entries
from tests.console.frozen import FROZEN_TS
from tests.console.pilot import wait_until
from tests.console.test_runbook_command import RUNBOOK


class FakeClock:
    def __init__(self) -> None:
        self.now = FROZEN_TS

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The drill runbook of the CLI's tests, the only one the screen offers; its shell step
    leaves a marker file."""
    marker = tmp_path / "saved.txt"
    book = tmp_path / "drill.toml"
    book.write_text(RUNBOOK.format(command=f"echo saved > {marker}; echo ok"))
    monkeypatch.setattr("console.screens.runbook.builtin_runbooks",
                        lambda: {"drill": load_runbook(book)})  # fmt: skip
    return marker


def runbook_audit(app) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.subject) for e in read_entries(app.deck.store, "runbook.")]


def log_text(app) -> str:
    """The output pane's text with runs of whitespace (and wrapping) made single spaces."""
    lines = app.screen.query_one("#runbook-log", RichLog).lines
    return " ".join(" ".join(line.text for line in lines).split())


def timer_text(app) -> str:
    return str(app.screen.query_one(RtoTimer).render())


async def open_runbook(pilot) -> None:
    await pilot.press("6")
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen.book is not None)


async def answer(pilot, key: str) -> None:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    await pilot.press(key)


async def test_steps_run_one_per_enter_with_confirmations_and_are_audited(
    make_frozen_app, drill: Path
) -> None:
    app = make_frozen_app(role=Role.OPERATOR, user="olga")
    clock = FakeClock()
    app.clock = clock
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        screen = app.screen
        assert "RTO 00:00 / 05:00" in timer_text(app)

        await pilot.press("enter")  # the shell step asks first; Escape leaves it for later
        await answer(pilot, "escape")
        await wait_until(pilot, lambda: not screen._busy)
        assert not drill.exists() and screen.session.run.results == []

        await pilot.press("enter")
        await answer(pilot, "y")
        await wait_until(pilot, lambda: len(screen.session.run.results) == 1)
        assert drill.read_text() == "saved\n"
        assert "done preserve_logs: exit 0 ok" in log_text(app)

        clock.now += 400  # past the 5-minute objective
        await wait_until(pilot, lambda: "RTO 06:40 / 05:00 OVER RTO" in timer_text(app))
        await wait_until(pilot, lambda: not screen._busy)
        await pilot.press("enter")  # manual: "Done?"
        await answer(pilot, "y")
        await wait_until(pilot, lambda: len(screen.session.run.results) == 2)
        await wait_until(pilot, lambda: not screen._busy)
        await pilot.press("enter")  # a probe only looks: no question
        await wait_until(pilot, lambda: screen.session.finished)
        await wait_until(pilot, lambda: "drill succeeded in 06:40, OVER the 5-minute RTO"
                         in log_text(app))  # fmt: skip
        assert "done verify_database: pass:" in log_text(app)
        assert runbook_audit(app) == [
            ("olga", "runbook.start", "drill"), ("olga", "runbook.step", "drill/preserve_logs"),
            ("olga", "runbook.step", "drill/notify"),
            ("olga", "runbook.step", "drill/verify_database"), ("olga", "runbook.finish", "drill"),
        ]  # fmt: skip
        finish = read_entries(app.deck.store, "runbook.finish")[0]
        assert finish.detail["within_rto"] is False and finish.detail["succeeded"] is True


async def test_a_step_not_done_stops_the_run_and_skips_the_rest(
    make_frozen_app, drill: Path
) -> None:
    app = make_frozen_app(role=Role.ADMIN, user="ada")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        screen = app.screen
        await pilot.press("enter")
        await answer(pilot, "y")
        await wait_until(pilot, lambda: len(screen.session.run.results) == 1 and not screen._busy)
        await pilot.press("enter")
        await answer(pilot, "n")  # not done: the step fails, as at the terminal
        await wait_until(pilot, lambda: screen.session.finished)
        outcomes = [r.outcome.value for r in screen.session.run.results]
        assert outcomes == ["done", "failed", "skipped"]
        finish = read_entries(app.deck.store, "runbook.finish")[0]
        assert finish.detail["succeeded"] is False
        await wait_until(pilot, lambda: "drill FAILED" in log_text(app))


async def test_abandon_and_dry_run_are_audited(make_frozen_app, drill: Path) -> None:
    app = make_frozen_app(role=Role.OPERATOR, user="olga")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        screen = app.screen
        await pilot.press("enter")
        await answer(pilot, "y")
        await wait_until(pilot, lambda: len(screen.session.run.results) == 1 and not screen._busy)
        await pilot.press("X")
        await answer(pilot, "y")
        await wait_until(pilot, lambda: screen.session.finished)
        assert [r.detail for r in screen.session.run.results[1:]] == ["stopped by olga"] * 2
        await pilot.press("d")
        await wait_until(pilot, lambda: screen.session.run.dry_run and screen.session.finished)
        assert [r.outcome.value for r in screen.session.run.results] == ["dry-run"] * 3
        actions = [a for _, a, _ in runbook_audit(app)]
        assert actions == ["runbook.start"] + ["runbook.step"] * 3 + ["runbook.finish"] + (
            ["runbook.start"] + ["runbook.step"] * 3 + ["runbook.finish"]
        )


async def test_a_viewer_cannot_run_a_step(make_frozen_app, drill: Path) -> None:
    app = make_frozen_app(role=Role.VIEWER, user="vic")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        await pilot.press("enter")
        await pilot.press("d")
        await pilot.pause(0.2)
        assert app.screen.session is None and not drill.exists()
        notes = "\n".join(n.message for n in app._notifications)
        assert "may not run runbook" in notes
        await wait_until(pilot, lambda: len(read_entries(app.deck.store)) == 2)
        refused = sorted((e.actor, e.action, e.subject) for e in read_entries(app.deck.store))
        assert refused == [("vic", "denied.runbook.start", "Dry run"),
                           ("vic", "denied.runbook.step", "Run next step")]  # fmt: skip
