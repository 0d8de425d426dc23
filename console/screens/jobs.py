"""The jobs screen: every job, with cancel, pause, resume and priority from the keyboard."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from console.screens.base import DeckScreen
from console.screens.reason import ReasonScreen
from console.widgets.jobs_table import JobsTable
from core.access import Capability
from core.events import JobPriority


class JobsScreen(DeckScreen):
    TITLE_TEXT = "Jobs"
    ACTIONS_NEED = {
        "cancel_job": Capability.RUN_JOBS,
        "pause_job": Capability.RUN_JOBS,
        "resume_job": Capability.RUN_JOBS,
        "priority": Capability.RUN_JOBS,
    }
    BINDINGS = [
        Binding("c", "cancel_job", "Cancel", id="jobs.cancel"),
        Binding("p", "pause_job", "Pause", id="jobs.pause"),
        Binding("r", "resume_job", "Resume", id="jobs.resume"),
        Binding("plus,equals_sign", "priority(-1)", "Priority up", id="jobs.priority_up"),
        Binding("minus", "priority(1)", "Priority down", id="jobs.priority_down"),
    ]

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield JobsTable(self.deck.bus, self.deck.settings.ui_refresh_hz, id="jobs-pane-full")
        yield from self.compose_footer()

    def _selected(self) -> int | None:
        job_id = self.query_one(JobsTable).selected
        if job_id is None:
            self.notify("No job selected.", severity="warning")
        return job_id

    def action_cancel_job(self) -> None:
        job_id = self._selected()
        if job_id is None:
            return

        def cancel(reason: str | None) -> None:
            if reason is not None and not self.deck.jobs.cancel(job_id):
                self.notify(f"Job {job_id} has already finished.", severity="warning")

        self.app.push_screen(ReasonScreen(f"Cancel job {job_id}? It cannot be resumed."), cancel)

    def action_pause_job(self) -> None:
        job_id = self._selected()
        if job_id is not None and not self.deck.jobs.pause(job_id):
            self.notify(f"Job {job_id} has already finished.", severity="warning")

    def action_resume_job(self) -> None:
        job_id = self._selected()
        if job_id is not None and not self.deck.jobs.resume(job_id):
            self.notify(f"Job {job_id} has already finished.", severity="warning")

    def action_priority(self, step: int) -> None:
        job_id = self._selected()
        if job_id is None:
            return
        update = self.deck.jobs.jobs.get(job_id)
        if update is None:
            return
        level = min(max(int(update.priority) + step, JobPriority.HIGH), JobPriority.LOW)
        if not self.deck.jobs.set_priority(job_id, JobPriority(level)):
            self.notify(f"Job {job_id} has already finished.", severity="warning")
