"""The runbook screen: the rollback or deployment runbook, a step per keypress, against
the RTO clock.

A run is what ``quarterdeck runbook run`` does, taken one step at a time
(``checks.runbooks.execute.RunbookSession``): the same step execution, the
same rules (a failed step stops the run; the rest are skipped) and the same
audit entries, written here from a thread with the user's name. What the
screen adds is a question before each step that changes something: a shell
step shows its command and runs only on "y"; a manual step asks whether it
was done ("n" fails it, as at the terminal); Escape leaves the step for later.
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
from checks.runbooks.execute import Outcome, RunbookSession, StepResult, audit_to
from checks.service import context_from_deck
from console.focus import focus_now
from console.formatting import stopwatch
from console.modes import MODES
from console.screens.base import DeckScreen, Need, PaletteCommand
from console.screens.confirm import ConfirmScreen
from console.widgets.fit_table import FitTable
from console.widgets.keyed_rows import upsert_row
from console.widgets.rto_timer import RtoTimer
from core.access import Capability

log = logging.getLogger(__name__)

STATES: dict[str, str] = {  # a step's state as shown: symbol and word
    Outcome.DONE: "✔ done",
    Outcome.FAILED: "✘ failed",
    Outcome.SKIPPED: "↷ skipped",
    Outcome.DRY_RUN: "◌ dry run",
    "next": "▶ next",
    "waiting": "· waiting",
}


class RunbookScreen(DeckScreen):
    """The chosen runbook's steps with their state, the selected step's instructions, the
    run's output and the RTO timer.

    BINDINGS:
        enter: run the next step (confirming first if it changes something).
        d: a dry run of every step. X: abandon the run. c: the next runbook.
    """

    TITLE_TEXT = MODES["runbook"].title
    AUTO_FOCUS = "#runbook-steps"
    ACTIONS_NEED = {
        "run_step": Need(Capability.RUN_RUNBOOK, "runbook.step"),
        "dry_run": Need(Capability.RUN_RUNBOOK, "runbook.start"),
        "abandon": Need(Capability.RUN_RUNBOOK, "runbook.abandon"),
    }
    BINDINGS = [
        # priority: the steps table would take Enter for itself (and a click selects a
        # row there, which must never run anything)
        Binding("enter", "run_step", "Run next step", id="runbook.run_step", priority=True),
        Binding("d", "dry_run", "Dry run", id="runbook.dry_run"),
        Binding("X", "abandon", "Abandon run", id="runbook.abandon"),
        Binding("c", "next_runbook", "Runbook", id="runbook.choose"),
    ]
    DEFAULT_CSS = """
    RunbookScreen #runbook-top { height: 1; margin: 0 1; }
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
        self.query_one("#runbook-summary", Static).update(
            f"{self.book.title}: RTO {self.book.rto_minutes} min · enter runs the next step"
        )
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
        lines = [step.title, "", step.instructions]
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
        context = context_from_deck(self.deck)
        if context.target.project_dir is None:  # as the CLI: the current directory
            target = dataclasses.replace(context.target, project_dir=Path.cwd())
            context = dataclasses.replace(context, target=target)
        return context

    def action_run_step(self) -> None:
        if self.book is None or self._busy:
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
        if self.session is None or self.session.finished:
            await self._start(dry_run=False)
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
        while session.stopped and not session.finished:  # the CLI skips the rest
            skipped = session.next_step
            assert skipped is not None
            await self._record(skipped, await session.run_next(_never))
        self._after_step()

    async def _start(self, dry_run: bool) -> None:
        assert self.book is not None
        self.session = self._new_session(dry_run)
        await self.session.start()
        self.query_one("#runbook-log", RichLog).clear()
        dry = " (dry run)" if dry_run else ""
        self._write(f"{self.book.title}: {len(self.book.steps)} steps, "
                    f"RTO {self.book.rto_minutes} min{dry}, by {self.user.name}")  # fmt: skip
        self.query_one(RtoTimer).start(self.session.elapsed)

    async def _ask(self, step: Step, number: int) -> bool | None:
        """The operator's answer before ``step`` runs: True to go ahead, False (manual
        steps only) for "not done", None to leave it for later."""
        if step.kind is StepKind.SHELL:
            detail = f"{step.instructions}\n\n$ {step.command}"
            question = ConfirmScreen(f"Run step {number}: {step.title}?", detail, yes="Run")
            return await self.app.push_screen_wait(question)
        if step.kind is StepKind.MANUAL:
            question = ConfirmScreen(f"Step {number}: {step.title}. Done?", step.instructions,
                                     yes="Done", no="Not done")  # fmt: skip
            return await self.app.push_screen_wait(question)
        return True  # a probe only looks

    async def _record(self, step: Step, result: StepResult) -> None:
        session = self.session
        assert session is not None and self.book is not None
        rto = self.book.rto_minutes * 60.0
        late = " OVER RTO" if session.run.elapsed > rto else ""
        self._write(f"[{stopwatch(session.run.elapsed)} / {stopwatch(rto)}{late}] "
                    f"{result.outcome.value:<8} {step.id}: {result.detail}")  # fmt: skip
        if result.output.strip():
            self._write("    " + result.output.rstrip().replace("\n", "\n    "))
        self._show_steps()

    def _after_step(self) -> None:
        session, book = self.session, self.book
        assert session is not None and book is not None
        following = session.next_step
        table = self.query_one("#runbook-steps", DataTable)
        if following is not None:
            table.move_cursor(row=book.steps.index(following))
            return
        self.query_one(RtoTimer).stop()
        run = session.run
        verdict = "succeeded" if run.succeeded else "FAILED"
        rto_note = "within" if run.within_rto else "OVER"
        self._write(f"{book.id} {verdict} in {stopwatch(run.elapsed)}, {rto_note} the "
                    f"{book.rto_minutes}-minute RTO")  # fmt: skip
        self.notify(
            f"{book.title} {verdict}.", severity="information" if run.succeeded else "error"
        )

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
        await self._start(dry_run=True)
        session = self.session
        assert session is not None
        while (step := session.next_step) is not None:
            await self._record(step, await session.run_next(_never))
        self._after_step()

    def action_abandon(self) -> None:
        if not self.running or self._busy:
            self.notify("No run is under way.", severity="warning")
            return
        book = self.book
        assert book is not None

        async def done(yes: bool | None) -> None:
            session = self.session
            if not yes or session is None or session.finished:
                return
            self._busy = True
            try:
                with self.refusals("Abandon run"):
                    for result in await session.abandon(f"stopped by {self.user.name}"):
                        await self._record(book.step(result.step_id), result)
                    self._after_step()
            finally:
                self._busy = False

        detail = "The remaining steps are recorded as skipped, and the run as failed."
        self.app.push_screen(ConfirmScreen(f"Abandon the {book.id} run?", detail,
                                           yes="Abandon"), done)  # fmt: skip

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
        return commands


async def _answered(answer: bool) -> bool:
    return answer


async def _never(step: Any) -> bool:
    raise AssertionError("a dry run or a skipped step asks nothing")
