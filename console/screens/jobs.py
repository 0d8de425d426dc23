"""The jobs screen: every job, with cancel, pause, resume, priority, rerun and details
from the keyboard."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable

from console.modes import MODES
from console.screens.base import DeckScreen, Need, PaletteCommand
from console.screens.reason import ReasonScreen
from console.widgets.job_details import JobDetails
from console.widgets.jobs_table import JobsTable
from core.access import Capability
from core.events import JobPriority, JobState, JobUpdate
from core.jobs import records
from core.store import JobRow

PALETTE_JOBS = 20  # the newest jobs the palette offers commands for


class JobsScreen(DeckScreen):
    """BINDINGS: c cancel (asks why), p pause, r resume, +/- priority, n rerun (the same
    kind and request as a new job), d or Enter details of the job under the cursor."""

    TITLE_TEXT = MODES["jobs"].title
    ACTIONS_NEED = {
        "cancel_job": Need(Capability.RUN_JOBS, "job.cancel"),
        "pause_job": Need(Capability.RUN_JOBS, "job.pause"),
        "resume_job": Need(Capability.RUN_JOBS, "job.resume"),
        "priority": Need(Capability.RUN_JOBS, "job.priority"),
        "rerun_job": Need(Capability.RUN_JOBS, "job.rerun"),
    }
    BINDINGS = [
        Binding("c", "cancel_job", "Cancel", id="jobs.cancel"),
        Binding("p", "pause_job", "Pause", id="jobs.pause"),
        Binding("r", "resume_job", "Resume", id="jobs.resume"),
        Binding("plus,equals_sign", "priority(-1)", "Priority up", id="jobs.priority_up"),
        Binding("minus", "priority(1)", "Priority down", id="jobs.priority_down"),
        Binding("n", "rerun_job", "Rerun", id="jobs.rerun"),
        Binding("d", "details", "Details", id="jobs.details"),
    ]
    DEFAULT_CSS = """
    JobsScreen JobsTable { height: 1fr; }
    JobsScreen JobDetails { display: none; }
    JobsScreen.-details JobDetails { display: block; }
    """

    def compose(self) -> ComposeResult:
        bus, hz = self.deck.bus, self.deck.settings.ui_refresh_hz
        yield from self.compose_header()
        yield JobsTable(bus, hz, id="jobs-pane-full")
        yield JobDetails(bus, hz, id="job-details")
        yield from self.compose_footer()

    # --- the selection and its details ------------------------------------------------

    def _selected(self) -> int | None:
        job_id = self.query_one(JobsTable).selected
        if job_id is None:
            self.notify("No job selected.", severity="warning")
        return job_id

    def action_details(self) -> None:
        """Show or hide the details of the job under the cursor."""
        self.toggle_class("-details")
        if self.has_class("-details"):
            self._load_details()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if not self.has_class("-details"):
            self.action_details()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.has_class("-details"):
            self._load_details()

    def on_job_details_finished(self, event: JobDetails.Finished) -> None:
        self._load_details()

    @work(exclusive=True, group="job-details")
    async def _load_details(self) -> None:
        job_id = self.query_one(JobsTable).selected
        details = self.query_one(JobDetails)
        live = None if job_id is None else self.deck.jobs.jobs.get(job_id)
        details.show(job_id, live, None)
        if job_id is not None:
            row = await self._stored(job_id)
            details.show(job_id, self.deck.jobs.jobs.get(job_id), row)

    async def _stored(self, job_id: int) -> JobRow | None:
        """The job's row, read off the loop once the writer has stored what it holds."""
        await self.deck.writer.flush()
        return await asyncio.to_thread(records.get_job, self.deck.store, job_id)

    # --- actions ----------------------------------------------------------------------

    def action_cancel_job(self) -> None:
        job_id = self._selected()
        if job_id is not None:
            self._cancel(job_id)

    def _cancel(self, job_id: int) -> None:
        async def cancel(reason: str | None) -> None:
            if reason is None:
                return
            with self.refusals(f"Cancel job {job_id}"):
                if not await self.deck.cancel_job(self.user, job_id, reason):
                    self.notify(f"Job {job_id} has already finished.", severity="warning")

        self.app.push_screen(ReasonScreen(f"Cancel job {job_id}? It cannot be resumed."), cancel)

    def action_pause_job(self) -> None:
        job_id = self._selected()
        if job_id is not None:
            self._pause(job_id)

    @work(group="job-control")
    async def _pause(self, job_id: int) -> None:
        with self.refusals(f"Pause job {job_id}"):
            if not await self.deck.pause_job(self.user, job_id):
                self.notify(f"Job {job_id} has already finished.", severity="warning")

    def action_resume_job(self) -> None:
        job_id = self._selected()
        if job_id is not None:
            self._resume(job_id)

    @work(group="job-control")
    async def _resume(self, job_id: int) -> None:
        with self.refusals(f"Resume job {job_id}"):
            if not await self.deck.resume_job(self.user, job_id):
                self.notify(f"Job {job_id} has already finished.", severity="warning")

    def action_priority(self, step: int) -> None:
        job_id = self._selected()
        if job_id is None:
            return
        update = self.deck.jobs.jobs.get(job_id)
        if update is None:
            return
        level = min(max(int(update.priority) + step, JobPriority.HIGH), JobPriority.LOW)
        self._set_priority(job_id, JobPriority(level))

    @work(group="job-control")
    async def _set_priority(self, job_id: int, priority: JobPriority) -> None:
        with self.refusals(f"Priority of job {job_id}"):
            if not await self.deck.set_job_priority(self.user, job_id, priority):
                self.notify(f"Job {job_id} has already finished.", severity="warning")

    def action_rerun_job(self) -> None:
        job_id = self._selected()
        if job_id is not None:
            self._rerun(job_id)

    @work(group="job-rerun")
    async def _rerun(self, job_id: int) -> None:
        """Submit the job's kind and stored request again, at its priority, as a new job."""
        with self.refusals(f"Rerun of job {job_id}"):
            try:
                new_id = await self.deck.rerun_job(self.user, job_id)
            except LookupError as exc:
                self.notify(f"{exc}.", severity="error")
                return
            except ValueError as exc:
                self.notify(f"Job {job_id} cannot be rerun: {exc}", severity="error")
                return
            title = self.deck.jobs.jobs[new_id].title if new_id in self.deck.jobs.jobs else ""
            self.notify(f"Job {new_id} queued: a rerun of job {job_id} ({title}).")

    # --- the palette ------------------------------------------------------------------

    def palette_commands(self) -> Iterable[PaletteCommand]:
        """For each of the newest jobs: what can be done to it in its state."""
        newest = sorted(self.deck.jobs.jobs.values(), key=lambda u: -u.job_id)[:PALETTE_JOBS]
        for u in newest:
            yield from self._job_commands(u)

    def _job_commands(self, u: JobUpdate) -> Iterable[PaletteCommand]:
        what = f"job {u.job_id} ({u.title})"
        state = f"{u.kind}, {u.state.value}"
        if not u.state.finished:
            yield PaletteCommand(f"Cancel {what}", state, lambda: self._cancel(u.job_id),
                                 "cancel_job")  # fmt: skip
            if u.state is JobState.PAUSED:
                yield PaletteCommand(f"Resume {what}", state, lambda: self._resume(u.job_id),
                                     "resume_job")  # fmt: skip
            else:
                yield PaletteCommand(f"Pause {what}", state, lambda: self._pause(u.job_id),
                                     "pause_job")  # fmt: skip
        yield PaletteCommand(f"Rerun {what}", f"{state}; same request, new job",
                             lambda: self._rerun(u.job_id), "rerun_job")  # fmt: skip
