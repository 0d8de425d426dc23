"""The health pane: process CPU and memory, the machine's memory, disk and open files,
event-loop lag, feed status and the outbound circuit breakers (feed alerts are the
alerts pane's)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from console import formatting as fmt
from console.widgets.bus_pane import BusPane
from console.widgets.figure_grid import text_grid
from console.widgets.live_text import LiveText
from core.events import BreakerState, BreakerStatus, FeedState, HealthSnapshot


class HealthPane(BusPane):
    """One line per figure; a feed that is not live is shown as a warning.

    COMPONENT_CLASSES:
        health-pane--ok, health-pane--warn: status colours.
        health-pane--label: a figure's name.
    """

    TOPICS = (HealthSnapshot,)
    COMPONENT_CLASSES = {"health-pane--ok", "health-pane--warn", "health-pane--label"}
    DEFAULT_CSS = """
    HealthPane { border: round $primary; }
    HealthPane .health-pane--ok { color: $success; }
    HealthPane .health-pane--warn { color: $warning; text-style: bold; }
    HealthPane .health-pane--label { color: $text-muted; }
    """

    def compose(self):
        self.border_title = "Health"
        yield LiveText("measuring…", id="health-figures")

    def apply(self, events: list[Any]) -> None:
        self.query_one("#health-figures", LiveText).show(self.render_snapshot(events[-1]))

    def render_snapshot(self, h: HealthSnapshot) -> Text:
        """Most telling first, as the pane may be short: the process, the feeds and any
        breaker that is not closed; then the disk, open files and closed breakers."""
        label = self.get_component_rich_style("health-pane--label")
        ok = self.get_component_rich_style("health-pane--ok")
        warn = self.get_component_rich_style("health-pane--warn")
        lag_style = ok if h.loop_lag_max_ms < 50 else warn
        memory = f"{fmt.size_bytes(h.memory_rss)} ({h.memory_percent:.1f}%)"
        measured = bool(h.disk_free or h.open_files)  # older snapshots have 0s
        if measured:
            memory += f" · host {h.host_memory_percent:.0f}%"
        rows: list[tuple[str, Text]] = [
            ("CPU", Text(f"{h.cpu_percent:.0f}%")),
            ("Memory", Text(memory, style=warn if h.host_memory_percent >= 80 else "")),
            ("Loop lag",
             Text(f"{h.loop_lag_ms:.1f} ms (max {h.loop_lag_max_ms:.1f})", style=lag_style)),
        ]  # fmt: skip
        for feed in h.feeds:
            state_style = ok if feed.state is FeedState.LIVE else warn
            age = "--" if feed.last_tick_age is None else f"{feed.last_tick_age * 1000:.0f} ms ago"
            state = f"{feed.state.value} · {feed.ticks_per_second:,.0f} ticks/s · {age}"
            rows.append((f"Feed {feed.name}", Text(state, style=state_style)))
            if feed.latency_p50 is not None and feed.latency_p99 is not None:
                p50, p99 = feed.latency_p50 * 1000, feed.latency_p99 * 1000
                rows.append(("  latency", Text(f"p50 {p50:,.0f} ms · p99 {p99:,.0f} ms")))
            if feed.dropped:
                rows.append(("  dropped", Text(f"{feed.dropped:,}", style=warn)))
        tripped = [b for b in h.breakers if b.state is not BreakerState.CLOSED]
        rows += [(f"Circuit {b.name}", Text(_breaker(b), style=warn)) for b in tripped]
        if measured:
            disk = f"{h.disk_percent:.0f}% used · {fmt.size_bytes(h.disk_free)} free"
            rows.append(("Disk", Text(disk, style=ok if h.disk_percent < 90 else warn)))
            files = _files(h.open_files, h.open_files_limit)
            rows.append(("Open files", Text(files, style=ok if _files_ok(h) else warn)))
        closed = [b for b in h.breakers if b.state is BreakerState.CLOSED]
        rows += [(f"Circuit {b.name}", Text(_breaker(b), style=ok)) for b in closed]
        cells = [[Text(name, style=label), value] for name, value in rows]
        return text_grid(cells, ("left", "right"), gap=2)


def _breaker(status: BreakerStatus) -> str:
    state = status.state.value.replace("_", "-")
    if status.state is BreakerState.CLOSED or not status.last_error:
        return state
    return f"{state} · {status.last_error}"


def _files(count: int, limit: int) -> str:
    return f"{count:,}" + (f" of {limit:,}" if limit > 0 else "")


def _files_ok(h: HealthSnapshot) -> bool:
    return h.open_files_limit <= 0 or h.open_files < 0.8 * h.open_files_limit
