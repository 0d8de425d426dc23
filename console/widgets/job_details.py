"""One job in full: what was asked, where it is, what it produced and wrote."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from core.events import JobUpdate
from core.research.strategies import REGISTRY
from core.store import JobRow


class JobDetails(BusPane):
    """Shows a job's live state (its latest ``JobUpdate``, followed on the bus) and its
    stored record (parameters, result, note, error, files written). It never reads the
    store itself: the screen loads the row off the event loop and hands it to ``show``,
    and is told with ``Finished`` when the job ends, since its record then changes.

    COMPONENT_CLASSES:
        job-details--label: a field's name. job-details--error: a failure.
    """

    TOPICS = (JobUpdate,)
    LATEST_ONLY = False  # the shown job's update must not be coalesced away by another's
    COMPONENT_CLASSES = {"job-details--label", "job-details--error"}
    DEFAULT_CSS = """
    JobDetails { border: round $primary; height: 1fr; }
    JobDetails > VerticalScroll { padding: 0 1; }
    JobDetails Static { height: auto; }
    JobDetails .job-details--label { color: $text-muted; }
    JobDetails .job-details--error { color: $error; text-style: bold; }
    """

    class Finished(Message):
        """The shown job has just finished: its stored record is worth reading again."""

        def __init__(self, job_id: int) -> None:
            super().__init__()
            self.job_id = job_id

    job_id: int | None = None
    update: JobUpdate | None = None
    row: JobRow | None = None

    def compose(self) -> ComposeResult:
        self.border_title = "Details"
        with VerticalScroll():
            yield Static("no job selected", id="job-details-body")

    def show(self, job_id: int | None, update: JobUpdate | None, row: JobRow | None) -> None:
        self.job_id, self.update, self.row = job_id, update, row
        self.border_title = "Details" if job_id is None else f"Job {job_id} · details"
        self._redraw()

    def apply(self, events: list[Any]) -> None:
        mine = [u for u in events if u.job_id == self.job_id]
        if not mine:
            return
        was_finished = self.update is not None and self.update.state.finished
        self.update = mine[-1]
        if self.update.state.finished and not was_finished:
            self.post_message(self.Finished(self.update.job_id))
        self._redraw()

    def _redraw(self) -> None:
        body = self.query_one("#job-details-body", Static)
        if self.job_id is None:
            body.update("no job selected")
        else:
            body.update(self._body(self.update, self.row))

    def _body(self, u: JobUpdate | None, row: JobRow | None) -> Group:
        label = self.get_component_rich_style("job-details--label")
        error = self.get_component_rich_style("job-details--error")
        facts = Table.grid(padding=(0, 1))
        facts.add_column(style=label, no_wrap=True)
        facts.add_column()
        if u is not None:
            facts.add_row("Job", f"{u.title} · {u.kind}")
            facts.add_row("State", f"{u.state.value} · priority {u.priority.name.lower()}")
            progress = f"{fmt.bar(u.fraction, 12)}{fmt.percent(u.fraction, 0):>5}"
            progress += f"  {u.done:,}/{u.total:,}"
            if u.rate:
                progress += f" · {u.rate:,.0f} evals/s · ETA {fmt.duration(u.eta_seconds)}"
            facts.add_row("Progress", progress)
            if u.summary:
                facts.add_row("Summary", u.summary)
        if row is None:
            return Group(facts, Text("loading the stored record…", style=label))
        times = [("created", row.created_at), ("started", row.started_at),
                 ("finished", row.finished_at)]  # fmt: skip
        facts.add_row("Times", " · ".join(f"{n} {fmt.clock(t)}" for n, t in times if t))
        code = strategy_code(row)
        if code is not None:
            facts.add_row("Strategy", code)
        if row.note:
            facts.add_row("Note", row.note)
        if row.error:
            facts.add_row("Error", Text(row.error, style=error))
        files = json.loads(row.files_json or "[]")
        facts.add_row("Files", "\n".join(files) if files else "none written")
        parts: list[Any] = [facts, Text("Parameters", style=label), _json(row.params_json)]
        if row.result_json:
            parts += [Text("Result", style=label), _json(row.result_json)]
        return Group(*parts)


def strategy_code(row: JobRow) -> str | None:
    """The strategy code a job ran: the id and version its result records; before there
    is a result, the version its strategy has now (which it runs, unless the file is
    changed meanwhile), said so; a batch's, each strategy's. None before a batch's result."""
    result = json.loads(row.result_json or "{}")
    if isinstance(result, dict) and "strategy_version" in result:
        return f"{result.get('strategy')} · version {result['strategy_version']}"
    if isinstance(result, dict) and isinstance(result.get("strategy_versions"), dict):
        return ", ".join(f"{s} · version {v}" for s, v in result["strategy_versions"].items())
    strategy_id = json.loads(row.params_json or "{}").get("strategy")
    if not isinstance(strategy_id, str):
        return None
    strategy = REGISTRY.get(strategy_id)
    if strategy is None:
        return f"{strategy_id} · not loaded now"
    return f"{strategy_id} · version {strategy.version} now (its result records the one run)"


def _json(text: str) -> Text:
    """Stored JSON, indented for reading."""
    return Text(json.dumps(json.loads(text), indent=2, sort_keys=True))
