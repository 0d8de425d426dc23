"""The runbook screen: the rollback or deployment runbook, a step per keypress, against
the RTO clock.

A run is what ``quarterdeck runbook run`` does, taken one step at a time
(``checks.runbooks.execute.RunbookSession``): the same pre-flight, the same
step execution, the same rules and the same audit entries, written here from
a thread with the user's name. A failed step that is not critical is recorded
and the run goes on; a failed critical step holds the run until the operator
retries it (``r``), skips it (``s``, asking why) or abandons the run (``X``,
asking why). What the screen adds is a question before each step that changes
something: a shell step shows its command and runs only on "y"; a manual step
asks whether it was done ("n" fails it, as at the terminal); Escape leaves the
step for later. A dry run is the pre-flight alone ("ready" or "would fail at
step N: ..."); the RTO timer runs only for real runs. A new run after a
finished one asks first and starts from a clean table; quitting while a run is
under way asks (``unfinished``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, RichLog, Static

from checks.probes import ProbeContext
from checks.runbooks import Runbook, Step, StepKind, builtin_runbooks
from checks.runbooks.execute import Outcome, RunbookSession, StepResult, audit_to, verdict
from checks.service import context_from_deck
from console.focus import focus_now
from console.formatting import stopwatch
from console.modes import MODES
from console.screens.base import DeckScreen, Need, PaletteCommand
from console.screens.confirm import ConfirmScreen
from console.screens.reason import ReasonScreen
from console.widgets.fit_table import FitTable
from console.widgets.keyed_rows import upsert_row
from console.widgets.rto_timer import RtoTimer
from core.access import Capability

log = logging.getLogger(__name__)

STATES: dict[str, str] = {  # a step's state as shown: symbol and word
    Outcome.DONE: "✔ done",
    Outcome.FAILED: "✘ failed",
    Outcome.SKIPPED: "↷ skipped",
    Outcome.DRY_RUN: "◌ ready",
    Outcome.WOULD_FAIL: "✘ would fail",
    "next": "▶ next",
    "waiting": "· waiting",
}


class RunbookScreen(DeckScreen):
    """The chosen runbook's steps with their state, the selected step's instructions, the
    run's output and the RTO timer.

    BINDINGS:
        enter: run the next step (confirming first if it changes something).
        r: retry the failed critical step. s: skip it (asks why).
        d: a dry run (the pre-flight). X: abandon the run (asks why). c: the next runbook.
    """

    TITLE_TEXT = MODES["runbook"].title
    AUTO_FOCUS = "#runbook-steps"
    ACTIONS_NEED = {
        "run_step": Need(Capability.RUN_RUNBOOK, "runbook.step"),
        "dry_run": Need(Capability.RUN_RUNBOOK, "runbook.start"),
        "abandon": Need(Capability.RUN_RUNBOOK, "runbook.abandon"),
        "retry": Need(Capability.RUN_RUNBOOK, "runbook.retry"),
        "skip": Need(Capability.RUN_RUNBOOK, "runbook.skip"),
    }
    BINDINGS = [
        # priority: the steps table would take Enter for itself (and a click selects a
        # row there, which must never run anything)
        Binding("enter", "run_step", "Run next step", id="runbook.run_step", priority=True),
        Binding("r", "retry", "Retry step", id="runbook.retry"),
        Binding("s", "skip", "Skip step", id="runbook.skip"),
        Binding("d", "dry_run", "Dry run", id="runbook.dry_run"),
        Binding("X", "abandon", "Abandon run", id="runbook.abandon"),
        Binding("c", "next_runbook", "Runbook", id="runbook.choose"),
    ]
    DEFAULT_CSS = """
    RunbookScreen #runbook-top { height: auto; max-height: 3; margin: 0 1; }
    RunbookScreen #runbook-summary { width: 1fr; text-style: bold; }
    RunbookScreen #runbook-steps { width: 3fr; height: 1fr; border: round $primary; }
    RunbookScreen #runbook-side { width: 2fr; }
    RunbookScreen #runbook-step {
        height: auto; max-height: 40%; border: round $primary; padding: 0 1;
    }
    RunbookScreen #runbook-log { height: 1fr; border: round $primary; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.runbooks: dict[str, Runbook] = {}
        self.book: Runbook | None = None
        self.session: RunbookSession | None = None
        self._busy = False  # a step (or its question) is under way

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="runbook-top"):
            yield Static("Loading the runbooks…", id="runbook-summary", markup=False)
            yield RtoTimer(id="runbook-rto")
        with Horizontal():
            table = FitTable(shrink=("title",), id="runbook-steps", cursor_type="row")
            table.add_column("#", key="n")
            table.add_column("State", key="state")
            table.add_column("Kind", key="kind")
            table.add_column("Step", key="title")
            yield table
            with Vertical(id="runbook-side"):
                yield Static("", id="runbook-step", markup=False)
                yield RichLog(id="runbook-log", wrap=True, markup=False, min_width=20)
        yield from self.compose_footer()

    def on_mount(self) -> None:
        self.query_one("#runbook-log", RichLog).border_title = "Output"
        self._load()

    @work(group="runbook-load")
    async def _load(self) -> None:
        try:
            self.runbooks = await asyncio.to_thread(builtin_runbooks)
        except Exception as exc:
            log.exception("runbooks not loaded")
            self.notify(f"Runbooks not loaded: {exc}", severity="error", timeout=30)
            return
        if self.runbooks:  # rollback first: it is the one wanted in a hurry
            self.choose("rollback" if "rollback" in self.runbooks else next(iter(self.runbooks)))

    # --- what is shown --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session is not None and self.session.started and not self.session.finished

    def unfinished(self) -> str | None:
        if not self.running:
            return None
        assert self.book is not None and self.session is not None
        done = len(self.session.run.results)
        return (f"The {self.book.id} run by {self.session.actor.name} is under way: "
                f"{done} of {len(self.book.steps)} steps recorded. Quitting leaves it "
                "unfinished (the audit shows where it stopped).")  # fmt: skip

    def _summary(self) -> None:
        """The line above the table: what Enter does now, or what the run is waiting for."""
        book, session = self.book, self.session
        if book is None:
            return
        text = f"{book.title}: RTO {book.rto_minutes} min · enter runs the next step"
        if session is not None and session.blocked is not None:
            number = len(session.run.results)
            text = (f"Step {number} failed and is critical: r retry · s skip (asks why) · "
                    "X abandon (asks why)")  # fmt: skip
        elif session is not None and session.finished:
            text = verdict(session.run, book.rto_minutes)
            if not session.run.dry_run:
                text = f"enter starts a new run · {text}"
        self.query_one("#runbook-summary", Static).update(text)

    def choose(self, runbook_id: str) -> None:
        """Show another runbook (refused while a run of the current one is under way)."""
        if self.running:
            assert self.book is not None
            self.notify(f"Finish or abandon the {self.book.id} run first (X).", severity="warning")
            return
        self.book = self.runbooks[runbook_id]
        self.session = None
        table = self.query_one("#runbook-steps", DataTable)
        table.clear()
        table.border_title = f"{self.book.title} · {len(self.book.steps)} steps"
        self.query_one(RtoTimer).reset(self.book.rto_minutes * 60.0)
        self._show_steps()
        focus_now(table)

    def _show_steps(self) -> None:
        book = self.book
        if book is None:
            return
        table = self.query_one("#runbook-steps", DataTable)
        results = self.session.run.results if self.session is not None else []
        following = self.session.next_step if self.session is not None else book.steps[0]
        for number, step in enumerate(book.steps, start=1):
            if number <= len(results):
                state = STATES[results[number - 1].outcome]
            else:
                state = STATES["next" if step is following else "waiting"]
            upsert_row(table, step.id, {"n": str(number), "state": state,
                                        "kind": step.kind.value, "title": step.title})  # fmt: skip
        self._show_step_detail()
        self._summary()

    def _selected_step(self) -> Step | None:
        table = self.query_one("#runbook-steps", DataTable)
        if self.book is None or not table.row_count:
            return None
        return self.book.steps[min(table.cursor_row, len(self.book.steps) - 1)]

    def _show_step_detail(self) -> None:
        step = self._selected_step()
        pane = self.query_one("#runbook-step", Static)
        if step is None:
            pane.update("")
            return
        pane.border_title = f"{step.kind.value} step: {step.id}"
        critical = ("critical: a failure stops the run" if step.critical
                    else "not critical: the run goes on after a failure")  # fmt: skip
        lines = [step.title, critical, "", step.instructions]
        if step.command:
            lines += ["", f"$ {step.command}", f"(timeout {step.timeout}s)"]
        if step.probe:
            lines += ["", f"probe {step.probe} {step.params or ''}".rstrip()]
        pane.update("\n".join(lines))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_step_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A row is selected by a click, which never runs anything. (Enter is the screen's
        priority binding; a role that may not run steps is told why, and the refusal
        audited, by ``DeckScreen.on_key``.)"""
        event.stop()

    def _write(self, line: str | Text) -> None:
        self.query_one("#runbook-log", RichLog).write(line)

    # --- running ------------------------------------------------------------------------

    def _new_session(self, dry_run: bool) -> RunbookSession:
        assert self.book is not None
        return RunbookSession(self.book, actor=self.user,
                              audit=audit_to(self.deck.store, self.user),
                              probe_context=self._probe_context(), dry_run=dry_run,
                              clock=self.console.clock)  # fmt: skip

    def _probe_context(self) -> ProbeContext:
        """The readiness target the Deck examines (set on the Readiness screen, else
        QD_CHECK_TARGET), so a rollback verifies the deployment the checks judge."""
        readiness = self.console.readiness
        context = context_from_deck(self.deck, readiness.target if readiness else None)
        if context.target.project_dir is None:  # as the CLI: the current directory
            target = dataclasses.replace(context.target, project_dir=Path.cwd())
            context = dataclasses.replace(context, target=target)
        return context

    def action_run_step(self) -> None:
        if self.book is None or self._busy:
            return
        session = self.session
        if session is not None and session.blocked is not None:
            self.notify(f"Step {len(session.run.results)} failed: r retries it, s skips it, "
                        "X abandons the run.", severity="warning")  # fmt: skip
            return
        self._busy = True
        self._run_step()

    @work(group="runbook-step")
    async def _run_step(self) -> None:
        try:
            with self.refusals("Run next step"):
                await self._run_next_step()
        finally:
            self._busy = False

    async def _run_next_step(self) -> None:
        fresh = self.session is None or self.session.finished or not self.session.started
        if fresh and not await self._start_real_run():
            return
        session = self.session
        assert session is not None
        step = session.next_step
        assert step is not None
        answer = await self._ask(step, len(session.run.results) + 1)
        if answer is None:
            self._write(f"  {step.id}: not run (cancelled)")
            return
        self._write(f"▶ {step.id}: {step.title}")
        await self._record(step, await session.run_next(lambda _: _answered(answer)))
        self._after_step()

    async def _start_real_run(self) -> bool:
        """A new real run: after a finished one, only once the operator agrees to clear its
        table; after the pre-flight, and despite a problem in a critical step only if they
        agree. False if nothing started."""
        assert self.book is not None
        previous = self.session
        if previous is not None and previous.finished and not previous.run.dry_run:
            question = ConfirmScreen(
                f"Start a new {self.book.id} run?",
                f"The last run is over ({verdict(previous.run, self.book.rto_minutes)}). "
                "Its table is cleared; its record stays in the audit trail.", yes="New run",
            )  # fmt: skip
            if not await self.app.push_screen_wait(question):
                return False
        session = self._new_session(dry_run=False)
        self.session = session
        self._clear()
        checked = await session.check()
        if not checked.ready:
            self._write(f"pre-flight: {checked.verdict()}")
            for line in checked.lines():
                self._write(f"  {line}")
        if checked.stopping_step is not None:
            question = ConfirmScreen(
                f"Start the {self.book.id} run anyway?",
                "The pre-flight found problems:\n" + "\n".join(checked.lines())
                + "\n\nA dry run (d) shows them again; fix them and start later.",
                yes="Start anyway",
            )  # fmt: skip
            if not await self.app.push_screen_wait(question):
                self._write(f"{self.book.id} not started")
                self.session = None
                self._show_steps()
                return False
        await self._start(session)
        return True

    def _clear(self) -> None:
        """A clean table, log and timer for the run about to start."""
        assert self.book is not None
        self.query_one("#runbook-log", RichLog).clear()
        self.query_one(RtoTimer).reset(self.book.rto_minutes * 60.0)
        self._show_steps()

    async def _start(self, session: RunbookSession) -> None:
        assert self.book is not None
        await session.start()
        dry = " (dry run: the pre-flight, nothing runs)" if session.run.dry_run else ""
        self._write(f"{self.book.title}: {len(self.book.steps)} steps, "
                    f"RTO {self.book.rto_minutes} min{dry}, by {self.user.name}")  # fmt: skip
        if not session.run.dry_run:  # the clock runs for real runs only
            self.query_one(RtoTimer).start(session.elapsed)
        self._show_steps()

    async def _ask(self, step: Step, number: int, again: str = "") -> bool | None:
        """The operator's answer before ``step`` runs: True to go ahead, False (manual
        steps only) for "not done", None to leave it for later."""
        if step.kind is StepKind.SHELL:
            detail = f"{step.instructions}\n\n$ {step.command}"
            question = ConfirmScreen(f"Run step {number}{again}: {step.title}?", detail,
                                     yes="Run")  # fmt: skip
            return await self.app.push_screen_wait(question)
        if step.kind is StepKind.MANUAL:
            question = ConfirmScreen(f"Step {number}{again}: {step.title}. Done?",
                                     step.instructions, yes="Done", no="Not done")  # fmt: skip
            return await self.app.push_screen_wait(question)
        return True  # a probe only looks

    async def _record(self, step: Step, result: StepResult) -> None:
        session = self.session
        assert session is not None and self.book is not None
        if session.run.dry_run:
            self._write(f"{result.outcome.value:<10} {step.id}: {result.detail}")
        else:
            rto = self.book.rto_minutes * 60.0
            late = " OVER RTO" if session.run.elapsed > rto else ""
            self._write(f"[{stopwatch(session.run.elapsed)} / {stopwatch(rto)}{late}] "
                        f"{result.outcome.value:<8} {step.id}: {result.detail}")  # fmt: skip
        if result.output.strip():
            self._write("    " + result.output.rstrip().replace("\n", "\n    "))
        if session.blocked is not None:
            self._write(f"  step {len(session.run.results)} is critical: r retries it, s skips "
                        "it (asks why), X abandons the run (asks why)")  # fmt: skip
            self.notify(f"{step.title} failed: r retry, s skip, X abandon.", severity="error",
                        timeout=10)  # fmt: skip
        self._show_steps()

    def _after_step(self) -> None:
        session, book = self.session, self.book
        assert session is not None and book is not None
        table = self.query_one("#runbook-steps", DataTable)
        if session.blocked is not None:
            table.move_cursor(row=len(session.run.results) - 1)
            return
        following = session.next_step
        if following is not None:
            table.move_cursor(row=book.steps.index(following))
            return
        self.query_one(RtoTimer).stop()
        text = verdict(session.run, book.rto_minutes)
        self._write(text)
        if session.run.dry_run and not session.run.succeeded:
            self._write("problems the pre-flight found:")
            for line in session.run.preflight.lines() if session.run.preflight else []:
                self._write(f"  {line}")
        self._summary()
        self.notify(text, severity="information" if session.run.succeeded else "error",
                    timeout=10)  # fmt: skip

    # --- a failed critical step: retry, skip, abandon -----------------------------------

    def _blocked(self, what: str) -> bool:
        if self.session is None or self.session.blocked is None or self._busy:
            if not self._busy:
                self.notify(f"Nothing to {what}: no critical step has failed.",
                            severity="warning")  # fmt: skip
            return False
        return True

    def action_retry(self) -> None:
        if not self._blocked("retry"):
            return
        self._busy = True
        self._retry()

    @work(group="runbook-step")
    async def _retry(self) -> None:
        try:
            with self.refusals("Retry step"):
                session = self.session
                assert session is not None
                step = session.blocked_step
                assert step is not None
                number = len(session.run.results)
                answer = await self._ask(step, number, again=" again")
                if answer is None:
                    return
                self._write(f"↻ {step.id}: retry by {self.user.name}")
                await self._record(step, await session.retry(lambda _: _answered(answer)))
                self._after_step()
        finally:
            self._busy = False

    def action_skip(self) -> None:
        if not self._blocked("skip"):
            return
        session = self.session
        assert session is not None and session.blocked_step is not None
        step = session.blocked_step
        number = len(session.run.results)

        async def done(reason: str | None) -> None:
            if not reason or session is not self.session or session.blocked is None:
                return
            self._busy = True
            try:
                with self.refusals("Skip step"):
                    result = await session.skip(reason)
                    self._write(f"↷ {step.id}: {result.detail}")
                    self._show_steps()
                    self._after_step()
            finally:
                self._busy = False

        self.app.push_screen(ReasonScreen(f"Skip failed step {number} ({step.title}) and go "
                                          "on? Why?"), done)  # fmt: skip

    def action_abandon(self) -> None:
        if not self.running or self._busy:
            self.notify("No run is under way.", severity="warning")
            return
        book, session = self.book, self.session
        assert book is not None and session is not None

        async def done(reason: str | None) -> None:
            if not reason or session is not self.session or session.finished:
                return
            self._busy = True
            try:
                with self.refusals("Abandon run"):
                    for result in await session.abandon(reason):
                        await self._record(book.step(result.step_id), result)
                    self._after_step()
            finally:
                self._busy = False

        self.app.push_screen(ReasonScreen(f"Abandon the {book.id} run? The remaining steps "
                                          "are recorded as skipped. Why?"), done)  # fmt: skip

    def action_dry_run(self) -> None:
        if self.book is None or self._busy:
            return
        if self.running:
            self.notify("A run is under way: finish or abandon it first (X).", severity="warning")
            return
        self._busy = True
        self._dry_run()

    @work(group="runbook-step")
    async def _dry_run(self) -> None:
        try:
            with self.refusals("Dry run"):
                await self._dry_run_steps()
        finally:
            self._busy = False

    async def _dry_run_steps(self) -> None:
        assert self.book is not None
        previous = self.session
        if previous is not None and previous.finished and not previous.run.dry_run:
            question = ConfirmScreen(
                f"Dry-run the {self.book.id} runbook?",
                f"The last run is over ({verdict(previous.run, self.book.rto_minutes)}). "
                "Its table is cleared; its record stays in the audit trail.", yes="Dry run",
            )  # fmt: skip
            if not await self.app.push_screen_wait(question):
                return
        session = self._new_session(dry_run=True)
        await session.check()  # a permission refusal is raised by start, before anything shows
        self.session = session
        self._clear()
        await self._start(session)
        while (step := session.next_step) is not None:
            await self._record(step, await session.run_next(_never))
        self._after_step()

    def action_next_runbook(self) -> None:
        ids = list(self.runbooks)
        if self.book is not None and len(ids) > 1:
            self.choose(ids[(ids.index(self.book.id) + 1) % len(ids)])

    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand(f"Runbook: {book.title}", f"{len(book.steps)} steps, "
                           f"RTO {book.rto_minutes} min", lambda i=book.id: self.choose(i))
            for book in self.runbooks.values() if book is not self.book
        ]  # fmt: skip
        session = self.session
        if self.book is not None and session is not None and session.next_step is not None:
            step = session.next_step
            commands.append(PaletteCommand(f"Run step: {step.title}", f"{self.book.id}/{step.id}",
                                           self.action_run_step,
                                           "run_step"))  # fmt: skip
        if self.book is not None and session is not None and session.blocked_step is not None:
            step = session.blocked_step
            subject = f"{self.book.id}/{step.id}"
            commands += [
                PaletteCommand(f"Retry failed step: {step.title}", subject, self.action_retry,
                               "retry"),
                PaletteCommand(f"Skip failed step: {step.title}", f"{subject} (asks why)",
                               self.action_skip, "skip"),
            ]  # fmt: skip
        if self.running:
            commands.append(PaletteCommand("Abandon the run", "asks why", self.action_abandon,
                                           "abandon"))  # fmt: skip
        return commands


async def _answered(answer: bool) -> bool:
    return answer


async def _never(step: Any) -> bool:
    raise AssertionError("a dry run or a skipped step asks nothing")
