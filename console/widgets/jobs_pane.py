"""The jobs pane: every job of this session with its progress."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from core.events import JobState, JobUpdate

BAR_WIDTH = 10


class JobsPane(BusPane):
    """Jobs in the order submitted: progress bar, state, speed and ETA; the newest
    finished job's result on the line below the table."""

    TOPICS = (JobUpdate,)
    LATEST_ONLY = False  # several jobs: keep every job's updates, the pane coalesces per job
    DEFAULT_CSS = """
    JobsPane { border: round $primary; }
    JobsPane > DataTable { height: 1fr; }
    JobsPane > #job-result { height: auto; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        self.border_title = "Jobs"
        table: DataTable[Any] = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        table.add_column("#", key="id")
        table.add_column("Job", key="title")
        table.add_column("Progress", key="progress", width=BAR_WIDTH + 5)
        table.add_column("State", key="state")
        table.add_column("Speed · ETA", key="speed")
        yield table
        yield Static("", id="job-result")

    def apply(self, events: list[Any]) -> None:
        latest: dict[int, JobUpdate] = {}
        for update in events:
            latest[update.job_id] = update
        table = self.query_one("#jobs", DataTable)
        for job_id, update in sorted(latest.items()):
            cells = self._cells(update)
            key = str(job_id)
            if key in table.rows:
                for column, value in cells.items():
                    table.update_cell(key, column, value)
            else:
                table.add_row(*cells.values(), key=key)
            if update.state.finished and update.summary:
                self.query_one("#job-result", Static).update(
                    f"#{job_id} {update.state.value}: {update.summary}"
                )

    @staticmethod
    def _cells(u: JobUpdate) -> dict[str, Any]:
        running = u.state is JobState.RUNNING
        speed = ""
        if running:
            eta = fmt.duration(u.eta_seconds) if u.eta_seconds is not None else "--"
            speed = f"{u.rate:,.0f}/s · {eta}"
        return {
            "id": Text(str(u.job_id), justify="right"),
            "title": f"{u.kind} {u.title}",
            "progress": Text(f"{fmt.bar(u.fraction, BAR_WIDTH)}{fmt.percent(u.fraction, 0):>5}"),
            "state": u.state.value,
            "speed": speed,
        }
