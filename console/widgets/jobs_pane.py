"""The jobs pane: every job of this session with its progress."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from console.widgets.keyed_rows import upsert_row
from core.events import JobState, JobUpdate

BAR_WIDTH = 10
JOB_WIDTH = 40  # fits the bar, percentage, "12,345/s · ETA 1h05m"


class JobsPane(BusPane):
    """Jobs in the order submitted, two lines each (title, kind and state; progress, speed
    and ETA), and the newest finished job's result on the line below the table."""

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
        # An explicit width: a two-line cell is measured by its first line only.
        table.add_column("Job", key="job", width=JOB_WIDTH)
        yield table
        yield Static("", id="job-result")

    def apply(self, events: list[Any]) -> None:
        latest: dict[int, JobUpdate] = {}
        for update in events:
            latest[update.job_id] = update
        table = self.query_one("#jobs", DataTable)
        for job_id, update in sorted(latest.items()):
            upsert_row(table, str(job_id), self._cells(update), height=2)
            if update.state.finished and update.summary:
                self.query_one("#job-result", Static).update(
                    f"#{job_id} {update.state.value}: {update.summary}"
                )

    @staticmethod
    def _cells(u: JobUpdate) -> dict[str, Text]:
        """Two lines a job: title (shortened to fit: a wrapped title would push the
        progress line out of the row), kind and state; then bar, percentage, speed, ETA."""
        progress = f"{fmt.bar(u.fraction, BAR_WIDTH)}{fmt.percent(u.fraction, 0):>5}"
        if u.state is JobState.RUNNING:
            eta = fmt.duration(u.eta_seconds) if u.eta_seconds is not None else "--"
            progress += f"  {u.rate:,.0f}/s · ETA {eta}"
        suffix = f" · {u.kind} · {u.state.value}"
        room = JOB_WIDTH - len(suffix)
        title = u.title if len(u.title) <= room else u.title[: room - 1] + "…"
        return {
            "id": Text(str(u.job_id), justify="right"),
            "job": Text(f"{title}{suffix}\n{progress}"),
        }
