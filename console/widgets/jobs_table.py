"""The full jobs table: one row a job, with state, priority, progress, speed and ETA."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from console.widgets.fit_table import FitTable
from console.widgets.keyed_rows import upsert_row
from core.events import JobState, JobUpdate

BAR_WIDTH = 12


class JobsTable(BusPane):
    """Every job this Deck knows, keyed by id, so the cursor stays on its job as rows
    change; ``selected`` is the job under the cursor."""

    TOPICS = (JobUpdate,)
    LATEST_ONLY = False
    DEFAULT_CSS = """
    JobsTable { border: round $primary; }
    JobsTable > DataTable { height: 1fr; }
    """

    def compose(self) -> ComposeResult:
        self.border_title = "Jobs"
        table = FitTable(shrink=("title",), id="jobs-table", cursor_type="row", zebra_stripes=True)
        for label, key in (("#", "id"), ("State", "state"), ("Prio", "priority"),
                           ("Progress", "progress"), ("Evals/s", "rate"), ("ETA", "eta"),
                           ("Kind", "kind"), ("Title", "title")):  # fmt: skip
            table.add_column(label, key=key)
        yield table

    def on_mount(self) -> None:
        self.apply(list(self.app.deck.jobs.jobs.values()))  # type: ignore[attr-defined]

    def apply(self, events: list[Any]) -> None:
        latest = {update.job_id: update for update in events}
        table = self.query_one("#jobs-table", DataTable)
        for job_id, update in sorted(latest.items()):
            upsert_row(table, str(job_id), self.cells(update))

    @staticmethod
    def cells(u: JobUpdate) -> dict[str, Text]:
        running = u.state is JobState.RUNNING
        eta = fmt.duration(u.eta_seconds) if running and u.eta_seconds is not None else "--"
        progress = f"{fmt.bar(u.fraction, BAR_WIDTH)}{fmt.percent(u.fraction, 0):>5}"
        return {
            "id": Text(str(u.job_id), justify="right"),
            "state": Text(u.state.value),
            "priority": Text(u.priority.name.lower()),
            "progress": Text(progress),
            "rate": Text(f"{u.rate:,.0f}" if running else "--", justify="right"),
            "eta": Text(eta, justify="right"),
            "kind": Text(u.kind),
            "title": Text(u.title),
        }

    @property
    def selected(self) -> int | None:
        table = self.query_one("#jobs-table", DataTable)
        if table.row_count == 0:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(str(key.value))
