"""Pilot tests of the runbook screen: a step per Enter, a confirmation before each step that
changes something, the run audited as `quarterdeck runbook run` audits it, the RTO timer."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import RichLog, Static

from checks.runbooks import load_runbook
from console.screens.confirm import ConfirmScreen
from console.widgets.rto_timer import RtoTimer
from core.access import Role
from core.audit import read_entries
from tests.console.frozen import FROZEN_TS
from tests.console.pilot import answer as answer_reason
from tests.console.pilot import static_text, wait_until
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


def use_drill(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str) -> None:
    book = tmp_path / "drill.toml"
    book.write_text(RUNBOOK.format(command=command))
    monkeypatch.setattr("console.screens.runbook.builtin_runbooks",
                        lambda: {"drill": load_runbook(book)})  # fmt: skip


def summary(app) -> str:
    return " ".join(static_text(app.screen.query_one("#runbook-summary", Static)).split())


async def idle(pilot) -> None:
    await wait_until(pilot, lambda: not pilot.app.screen._busy)


async def test_a_failed_critical_step_is_retried_or_skipped_with_a_reason_and_audited(
    make_frozen_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried = tmp_path / "tried"
    use_drill(monkeypatch, tmp_path, f"test -e {tried} || {{ touch {tried}; exit 1; }}")
    app = make_frozen_app(role=Role.OPERATOR, user="olga")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        screen = app.screen
        await pilot.press("enter")
        await answer(pilot, "y")
        await wait_until(pilot, lambda: screen.session.blocked is not None)
        await idle(pilot)
        assert "Step 1 failed and is critical: r retry" in summary(app)
        await pilot.press("enter")  # nothing runs past a failed critical step
        await pilot.pause(0.1)
        assert len(screen.session.run.results) == 1 and screen.session.blocked is not None

        await pilot.press("r")  # the retry asks again, then runs: this time it passes
        await answer(pilot, "y")
        await wait_until(pilot, lambda: screen.session.blocked is None)
        await idle(pilot)
        assert [r.outcome.value for r in screen.session.run.results] == ["done"]

        await pilot.press("enter")
        await answer(pilot, "n")  # not done: a failed critical step again
        await wait_until(pilot, lambda: screen.session.blocked is not None)
        await idle(pilot)
        await pilot.press("s")
        await answer_reason(pilot, "told the desk by phone")
        await wait_until(pilot, lambda: screen.session.blocked is None and not screen._busy)
        assert screen.session.next_step.id == "verify_database"
        await pilot.press("enter")  # the probe
        await wait_until(pilot, lambda: screen.session.finished)
        await wait_until(pilot, lambda: "drill FAILED: completed with failed steps notify"
                         in log_text(app))  # fmt: skip
        assert "skipped by olga: told the desk by phone" in log_text(app)
        entries = [(e.actor, e.action, e.subject, e.detail.get("reason"))
                   for e in read_entries(app.deck.store, "runbook.")]  # fmt: skip
        assert [e for e in entries if e[1] in ("runbook.retry", "runbook.skip")] == [
            ("olga", "runbook.retry", "drill/preserve_logs", "retrying after: exit 1"),
            ("olga", "runbook.skip", "drill/notify", "told the desk by phone"),
        ]
        assert not screen.running and "enter starts a new run" in summary(app)


async def test_abandon_asks_why_stops_the_timer_and_a_new_run_asks_first(
    make_frozen_app, drill: Path
) -> None:
    app = make_frozen_app(role=Role.OPERATOR, user="olga")
    clock = FakeClock()
    app.clock = clock
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        screen = app.screen
        await pilot.press("enter")
        await answer(pilot, "y")
        await wait_until(pilot, lambda: len(screen.session.run.results) == 1 and not screen._busy)
        assert screen.query_one(RtoTimer).has_class("-running")
        await pilot.press("X")
        await answer_reason(pilot, "drill over")
        await wait_until(pilot, lambda: screen.session.finished and not screen._busy)
        assert [r.detail for r in screen.session.run.results[1:]] == [
            "abandoned by olga: drill over"] * 2  # fmt: skip
        assert not screen.query_one(RtoTimer).has_class("-running")
        clock.now += 100  # the abandoned run's clock stands still
        await pilot.pause(1.2)
        assert "RTO 00:00 / 05:00" in timer_text(app)
        abandon = read_entries(app.deck.store, "runbook.abandon")[0]
        assert (abandon.actor, abandon.detail["reason"]) == ("olga", "drill over")

        await pilot.press("enter")  # a new run asks first; Escape keeps the old table
        await answer(pilot, "escape")
        await idle(pilot)
        assert len(screen.session.run.results) == 3
        await pilot.press("enter")
        await answer(pilot, "y")  # "New run": a clean table, then the first step's question
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                         and "Run step 1" in app.screen.question)  # fmt: skip
        log = " ".join(line.text for line in screen.query_one("#runbook-log", RichLog).lines)
        assert screen.session.run.results == [] and "abandoned" not in log
        table = screen.query_one("#runbook-steps")
        states = [str(table.get_cell(key, "state")) for key in
                  ("preserve_logs", "notify", "verify_database")]  # fmt: skip
        assert states == ["▶ next", "· waiting", "· waiting"]
        await pilot.press("escape")


async def test_a_dry_run_is_the_preflight_and_its_clock_does_not_run(
    make_frozen_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QD_DRILL_DIR", raising=False)
    use_drill(monkeypatch, tmp_path, "mkdir -p ${QD_DRILL_DIR}")
    app = make_frozen_app(role=Role.OPERATOR, user="olga")
    clock = FakeClock()
    app.clock = clock
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        screen = app.screen
        await pilot.press("d")
        await wait_until(pilot, lambda: screen.session is not None and screen.session.finished)
        await idle(pilot)
        outcomes = [r.outcome.value for r in screen.session.run.results]
        assert outcomes == ["would-fail", "dry-run", "dry-run"]
        verdict = "drill would fail at step 1: QD_DRILL_DIR is not set"
        await wait_until(pilot, lambda: verdict in log_text(app))
        assert verdict in summary(app) and "succeeded" not in log_text(app)
        clock.now += 100
        await pilot.pause(1.2)
        assert "RTO 00:00 / 05:00" in timer_text(app)
        assert not screen.query_one(RtoTimer).has_class("-running")

        monkeypatch.setenv("QD_DRILL_DIR", str(tmp_path / "drill"))
        await pilot.press("d")  # after a dry run, another needs no question
        await wait_until(pilot, lambda: "drill is ready" in summary(app))
        assert not (tmp_path / "drill").exists()


async def test_quitting_during_a_run_asks_first(make_frozen_app, drill: Path) -> None:
    app = make_frozen_app(role=Role.OPERATOR, user="olga")
    app.deck.store.create_schema()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        screen = app.screen
        await pilot.press("enter")
        await answer(pilot, "y")
        await wait_until(pilot, lambda: len(screen.session.run.results) == 1 and not screen._busy)
        await pilot.press("1")  # from another screen too
        await pilot.press("q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.question == "Quit with a run under way?"
        assert "The drill run by olga is under way: 1 of 3 steps" in app.screen.detail
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert app.is_running and not app._quitting


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


HEALTH_RUNBOOK = """\
[runbook]
id = "verify"
title = "Verify"
description = "Verify the deployment."
rto_minutes = 5

[[steps]]
id = "verify_health"
title = "Verify health"
kind = "probe"
instructions = "The service answers."
probe = "http.health"
params = { path = "/health", expect_status = 200, max_latency_ms = 500 }
timeout = 10
sources = ["001: Rollback Plan"]
"""


async def test_probe_steps_examine_the_target_set_on_the_readiness_screen(
    make_frozen_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rollback verifies the deployment the readiness checks judge: the target set in
    the console, not only QD_CHECK_TARGET (empty here, so the pre-flight would object)."""
    monkeypatch.delenv("QD_CHECK_TARGET", raising=False)
    book = tmp_path / "verify.toml"
    book.write_text(HEALTH_RUNBOOK)
    monkeypatch.setattr("console.screens.runbook.builtin_runbooks",
                        lambda: {"verify": load_runbook(book)})  # fmt: skip
    app = make_frozen_app(role=Role.OPERATOR, user="olga")
    app.deck.store.create_schema()
    app.readiness.target = "http://127.0.0.1:9"
    async with app.run_test(size=(120, 40)) as pilot:
        await open_runbook(pilot)
        screen = app.screen
        await pilot.press("d")
        await wait_until(pilot, lambda: screen.session is not None and screen.session.finished)
        assert "verify is ready" in " ".join(log_text(app).split())
        assert "base_url is not set" not in log_text(app)
