"""The research screen: browse the strategy library, set parameters, backtest, search.

The library is the built-ins and the user strategies, as the Deck loaded them (a
user strategy shows its file and version); what did not load shows above the list.
When the user strategies are reloaded (a file in the strategies folder was saved),
the list and the form follow, the cursor staying on its strategy.

A backtest of the form's strategy runs here, in a worker thread, and shows
at once; an optimization, a walk-forward or an export runs as a job (see the
jobs screen) and needs the RUN_JOBS capability. A finished optimization's
evaluations, read back from its checkpoints, make the heatmap.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.timer import Timer
from textual.widgets import Label, Select, Static, TabbedContent, TabPane

from console.focus import focus_now
from console.modes import MODES
from console.screens.base import DeckScreen, Need, PaletteCommand
from console.widgets.backtest_view import BacktestView
from console.widgets.heatmap_grid import BEST, HeatmapGrid
from console.widgets.param_form import ParamForm, RunInputs
from console.widgets.strategy_browser import StrategyBrowser
from console.widgets.strategy_load_errors import StrategyLoadErrors
from core.access import Capability
from core.events import JobState
from core.jobs import OptimizeRequest, WalkForwardRequest
from core.jobs.datasets import dataset_bars
from core.jobs.optimize import saved_search
from core.market.catalog import Catalog
from core.research.backtest import BacktestConfig
from core.research.grids import default_grid, heatmap, varied_params
from core.research.optimizer import Evaluation, Objective
from core.research.runner import BacktestResult, run_backtest
from core.research.strategies import REGISTRY, Strategy

DEFAULT_STRATEGY = "sma_cross"
DEFAULT_BARS = 5_000
WALK_FORWARD_WINDOWS = 4
EXPORT_NOTICE_SECONDS = 20.0  # long enough to read, or copy, the file's path


def same_code(a: Strategy, b: Strategy) -> bool:
    """Whether two loads of a strategy are of the same code (a reload re-imports every
    file, changed or not)."""
    return (a.id, a.source, a.version) == (b.id, b.source, b.version)


def backtest(
    inputs: RunInputs, seed: int, commission: float, catalog: Catalog | None = None
) -> BacktestResult:
    """The form's backtest, on a file, ``sim:SYMBOL`` or ``catalog:ID`` of ``catalog``.
    Blocks (bars are simulated or read, the kernel is numba): run it in a worker thread."""
    bars = dataset_bars(inputs.dataset, seed, inputs.bars, catalog)
    return run_backtest(inputs.strategy, bars, inputs.params, BacktestConfig(commission=commission))


HEATMAP_AXIS = 14  # columns the heatmap's row labels take
HEATMAP_CELL = 9  # columns a heatmap cell takes, with its padding
HEATMAP_ROWS = 60  # rows at most: a taller heatmap bins its values
RELAYOUT_DELAY = 0.25  # seconds without a resize before the heatmap is laid out again


class ResearchScreen(DeckScreen):
    """BINDINGS:
    b: backtest the form's strategy (also enter in a field). o: optimize it and
    w: walk-forward it over a grid spread across its parameter ranges (jobs).
    h: heatmap of the newest finished optimization. e: export its Pine Script,
    E: its PDF report (jobs), with the form's parameters, or while the heatmap shows
    with its optimization's best ones. /: filter the strategies. s: back to the form.
    escape: back to the strategy list.
    """

    TITLE_TEXT = MODES["research"].title
    AUTO_FOCUS = "#strategy-tree"
    ACTIONS_NEED = {
        "optimize": Need(Capability.RUN_JOBS, "job.submit"),
        "walk_forward": Need(Capability.RUN_JOBS, "job.submit"),
        "export_pine": Need(Capability.RUN_JOBS, "job.submit"),
        "export_pdf": Need(Capability.RUN_JOBS, "job.submit"),
    }
    BINDINGS = [
        Binding("b", "backtest", "Backtest", id="research.backtest"),
        Binding("o", "optimize", "Optimize", id="research.optimize"),
        Binding("w", "walk_forward", "Walk-fwd", id="research.walk_forward"),
        Binding("h", "heatmap", "Heatmap", id="research.heatmap"),
        Binding("e", "export_pine", "Pine", id="research.export_pine"),
        Binding("E", "export_pdf", "PDF", id="research.export_pdf"),
        Binding("slash", "filter", "Filter", id="research.filter"),
        Binding("s", "setup", "Form", id="research.setup", show=False),
        Binding("escape", "browse", "Strategies", id="research.browse", show=False),
    ]
    DEFAULT_CSS = """
    ResearchScreen #research-body { height: 1fr; }
    ResearchScreen StrategyBrowser { width: 30; }
    ResearchScreen.-short StrategyBrowser { width: 28; }
    ResearchScreen #research-tabs { width: 1fr; }
    ResearchScreen TabPane { padding: 0 1; }
    ResearchScreen.-short TabPane { padding: 0; }
    ResearchScreen #heatmap-axes { height: 1; margin-bottom: 1; }
    ResearchScreen #heatmap-title { color: $primary; text-style: bold; margin-bottom: 1; }
    ResearchScreen #heatmap-axes > Label { width: auto; padding: 0 1 0 0; }
    ResearchScreen #heatmap-axes > Select { width: 18; margin-right: 2; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.result: BacktestResult | None = None
        self._evaluations: list[Evaluation] = []
        self._objective = Objective()
        self._min_trades = 0
        self._search_job: int | None = None  # the optimization the heatmap shows
        self._relayout: Timer | None = None  # the heatmap's layout after a resize

    def compose(self) -> ComposeResult:
        settings = self.deck.settings
        yield from self.compose_header()
        bus, hz = self.console.bus, settings.ui_refresh_hz
        yield StrategyLoadErrors(bus, hz, id="strategy-load-errors")
        with Horizontal(id="research-body"):
            # The registry as loaded (never a load here: that imports user code); a
            # load after this is announced, and the list follows (``_library_loaded``).
            yield StrategyBrowser(REGISTRY.values(), id="strategy-browser")
            with TabbedContent(id="research-tabs"):
                with TabPane("Setup", id="tab-setup"), VerticalScroll():
                    simulated = [f"sim:{symbol}" for symbol in settings.sim_symbols]
                    yield ParamForm([(spec, spec) for spec in simulated], DEFAULT_BARS,
                                    id="param-form")  # fmt: skip
                with TabPane("Result", id="tab-result"):
                    yield BacktestView(id="backtest-view")
                with TabPane("Heatmap", id="tab-heatmap"), VerticalScroll():
                    with Horizontal(id="heatmap-axes"):
                        yield Label("x")
                        yield Select([], id="heatmap-x", compact=True, prompt="--")
                        yield Label("y")
                        yield Select([], id="heatmap-y", compact=True, prompt="--")
                    yield Static(id="heatmap-title")
                    yield HeatmapGrid(id="heatmap")
        yield from self.compose_footer()

    async def on_mount(self) -> None:
        await self.form.show(REGISTRY[DEFAULT_STRATEGY])
        browser = self.query_one(StrategyBrowser)
        browser.move_to(DEFAULT_STRATEGY)

    def on_screen_resume(self) -> None:
        self._offer_catalog()  # each time it shows: datasets come by the API and the CLI

    @work(exclusive=True, group="catalog")
    async def _offer_catalog(self) -> None:
        """Offer the data catalog's datasets beside the simulator's symbols, read off the
        loop (a file per dataset)."""
        datasets = await asyncio.to_thread(self.deck.catalog.entries)
        symbols = self.deck.settings.sim_symbols
        self.form.offer_datasets(
            [(f"sim:{symbol}", f"sim:{symbol}") for symbol in symbols]
            + [(f"{d.name}{f' {d.symbol}' if d.symbol else ''} · {d.rows:,} bars",
                f"catalog:{d.id}") for d in datasets]
        )  # fmt: skip

    # --- parts --------------------------------------------------------------------------

    @property
    def form(self) -> ParamForm:
        return self.query_one(ParamForm)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#research-tabs", TabbedContent)

    async def _inputs(self) -> RunInputs | None:
        """What the form holds, once it shows the strategy under the list's cursor: the
        form follows the cursor by a message, which a key pressed just after the move
        can overtake."""
        node = self.query_one(StrategyBrowser).tree.cursor_node
        if node is not None and node.data is not None and node.data is not self.form.strategy:
            await self.form.show(node.data)
        inputs = await self.form.read()
        if inputs is None:
            self.tabs.active = "tab-setup"
            self.notify("Fix the parameters shown in the form first.", severity="error")
        return inputs

    # --- choosing a strategy -----------------------------------------------------------

    @on(StrategyBrowser.Highlighted)
    async def _strategy_highlighted(self, event: StrategyBrowser.Highlighted) -> None:
        if event.strategy is not self.form.strategy:
            await self.form.show(event.strategy)

    @on(StrategyLoadErrors.Loaded)
    async def _library_loaded(self) -> None:
        """The user strategies were (re)loaded: list them, keeping the cursor, and show
        the form's strategy as it is now (a new version keeps the values typed)."""
        browser = self.query_one(StrategyBrowser)
        browser.set_strategies(REGISTRY.values())
        shown = self.form.strategy
        if shown is None:
            return
        now = REGISTRY.get(shown.id)
        if now is None:  # its file was removed, or no longer loads
            await self.form.show(REGISTRY[DEFAULT_STRATEGY])
            browser.call_after_refresh(browser.move_to, DEFAULT_STRATEGY)  # new nodes' lines
        elif same_code(now, shown):
            self.form.strategy = now  # reloaded unchanged: the form's values stay as they are
        else:
            await self.form.show(now, keep_values=True)

    @on(StrategyBrowser.Chosen)
    async def _strategy_chosen(self, event: StrategyBrowser.Chosen) -> None:
        if event.strategy is not self.form.strategy:
            await self.form.show(event.strategy)
        self.tabs.active = "tab-setup"
        params = event.strategy.params
        focus_now(self.form.field(params[0].name if params else "bars"))

    @on(ParamForm.Submitted)
    async def _form_submitted(self) -> None:
        await self.action_backtest()

    def action_filter(self) -> None:
        self.query_one(StrategyBrowser).focus_filter()

    def action_browse(self) -> None:
        strategy = self.form.strategy
        self.query_one(StrategyBrowser).focus_tree(strategy.id if strategy else None)

    def action_setup(self) -> None:
        self.tabs.active = "tab-setup"

    # --- backtest ----------------------------------------------------------------------

    async def action_backtest(self) -> None:
        inputs = await self._inputs()
        if inputs is None:
            return
        self.tabs.active = "tab-result"
        self._run_backtest(inputs)

    @work(exclusive=True, group="backtest")
    async def _run_backtest(self, inputs: RunInputs) -> None:
        view = self.query_one(BacktestView)
        title = f"{inputs.strategy.id} on {inputs.dataset}"
        view.say(f"{title}: running…")
        s = self.deck.settings
        try:
            result = await asyncio.to_thread(backtest, inputs, s.sim_seed, s.commission,
                                             self.deck.catalog)  # fmt: skip
        except (OSError, ValueError) as exc:
            view.say(f"{title}: failed")
            self.notify(f"Backtest failed: {exc}", severity="error")
            return
        params = " ".join(f"{k}={v}" for k, v in result.params.items())
        wiped = f" · {result.bankruptcy.upper()}" if result.bankruptcy else ""
        # the bars run: a catalog dataset's own, whatever the form's count says
        view.show(f"{title}, {result.equity.size:,} bars · {params}{wiped}", result)
        self.result = result

    # --- jobs --------------------------------------------------------------------------

    async def _submit(self, kind: str, params: dict[str, Any], what: str) -> None:
        with self.refusals(what):
            try:
                job_id = await self.deck.submit_job(self.user, kind, params)
            except ValueError as exc:
                self.notify(f"{what} refused: {exc}", severity="error")
                return
            self.notify(f"{what} queued as job {job_id} (see Jobs, key 3).")

    def _search_request(self, inputs: RunInputs) -> dict[str, Any]:
        s = self.deck.settings
        return {
            "strategy": inputs.strategy.id,
            "dataset": inputs.dataset,
            "grid": default_grid(inputs.strategy),
            "commission": s.commission,
            "seed": s.sim_seed,
            "bars": inputs.bars,
        }

    async def action_optimize(self) -> None:
        inputs = await self._inputs()
        if inputs is not None:
            request = OptimizeRequest(**self._search_request(inputs))
            await self._submit("optimize", request.as_params(), f"Optimization of {request.title}")

    async def action_walk_forward(self) -> None:
        inputs = await self._inputs()
        if inputs is not None:
            request = WalkForwardRequest(
                **self._search_request(inputs), windows=WALK_FORWARD_WINDOWS
            )
            await self._submit(
                "walk_forward", request.as_params(), f"Walk-forward of {request.title}"
            )

    async def _export(self, format: str, what: str) -> None:
        """Export the heatmap's optimization at its best parameters while the heatmap is
        showing, else the form's strategy with the form's parameters; a notice says
        where the file went (or why not) when the job ends."""
        search_job = self._search_job if self.tabs.active == "tab-heatmap" else None
        inputs = await self._inputs() if search_job is None else None
        if search_job is None and inputs is None:
            return
        with self.refusals(what):
            try:
                if search_job is not None:
                    job_id = await self.deck.submit_export_of_best(
                        self.user, search_job, format=format
                    )
                else:
                    assert inputs is not None
                    job_id = await self.deck.submit_export(
                        self.user, inputs.strategy.id, inputs.dataset, dict(inputs.params),
                        format=format, bars=inputs.bars, seed=self.deck.settings.sim_seed,
                    )  # fmt: skip
            except ValueError as exc:
                self.notify(f"{what} refused: {exc}", severity="error")
                return
            title = self.deck.jobs.jobs[job_id].title
            self.notify(f"{what} queued as job {job_id}: {title} (see Jobs, key 3).")
            self._announce_export(job_id, what)

    @work(group="export-notices")
    async def _announce_export(self, job_id: int, what: str) -> None:
        """Wait for an export job to end, then say where its file went, with which
        parameters, or why it failed."""
        row = await self.deck.job_outcome(job_id)
        result = json.loads(row.result_json or "{}")
        if row.state == JobState.DONE.value:
            where, parameters = result.get("path"), result.get("parameters")
            self.notify(f"{what} (job {job_id}) written to {where}\nwith {parameters}",
                        timeout=EXPORT_NOTICE_SECONDS)  # fmt: skip
        elif row.state == JobState.FAILED.value:
            self.notify(f"{what} (job {job_id}) failed: {row.error}", severity="error",
                        timeout=EXPORT_NOTICE_SECONDS)  # fmt: skip
        else:
            self.notify(f"{what} (job {job_id}) was {row.state}.", severity="warning")

    async def action_export_pine(self) -> None:
        await self._export("pine", "Pine Script export")

    async def action_export_pdf(self) -> None:
        await self._export("report", "PDF report")

    # --- heatmap -----------------------------------------------------------------------

    def finished_optimizations(self) -> list[int]:
        """Ids of the finished optimizations the Deck knows (this run's, and the newest of
        earlier runs' read back at start), newest first."""
        return sorted(
            (u.job_id for u in list(self.deck.jobs.jobs.values())
             if u.kind == "optimize" and u.state is JobState.DONE),
            reverse=True,
        )  # fmt: skip

    def action_heatmap(self) -> None:
        finished = self.finished_optimizations()
        if not finished:
            self.notify("No optimization has finished yet: press o to start one.",
                        severity="warning")  # fmt: skip
            return
        self.load_heatmap(finished[0])

    @work(exclusive=True, group="heatmap")
    async def load_heatmap(self, job_id: int) -> None:
        self.tabs.active = "tab-heatmap"
        grid = self.query_one(HeatmapGrid)
        grid.say(f"Reading job {job_id}'s evaluations…")
        await self.deck.writer.flush()  # its last checkpoints may still be queued
        try:
            request, evaluations = await asyncio.to_thread(saved_search, self.deck.store, job_id)
        except ValueError as exc:
            grid.say(f"No heatmap: {exc}.")
            return
        title = f"Job {job_id}: {request.title}"
        self._search_job = job_id
        self.show_search(title, evaluations, Objective(request.objective), request.min_trades)

    def show_search(
        self, title: str, evaluations: list[Evaluation], objective: Objective, min_trades: int
    ) -> None:
        """Lay a search's evaluations out as the heatmap, on the first two parameters it
        varied (the axis choosers offer every one it varied)."""
        self.tabs.active = "tab-heatmap"
        self._evaluations, self._objective, self._min_trades = evaluations, objective, min_trades
        self.console.settle_heap()  # tens of thousands of results, kept while the heatmap shows
        axes = varied_params(evaluations)
        caption = (f"{title} · {objective.metric}, best over other parameters and over "
                   f"a cell's range where values outnumber cells · {BEST} best")  # fmt: skip
        self.query_one("#heatmap-title", Static).update(caption)
        grid = self.query_one(HeatmapGrid)
        if len(axes) < 2:
            grid.say(f"The search varied {len(axes)} parameter(s): a heatmap needs two.")
            return
        x_select = self.query_one("#heatmap-x", Select)
        y_select = self.query_one("#heatmap-y", Select)
        with self.prevent(Select.Changed):
            x_select.set_options([(a, a) for a in axes])
            y_select.set_options([(a, a) for a in axes])
            x_select.value, y_select.value = axes[0], axes[1]
        self._draw_heatmap(axes[0], axes[1])

    def _draw_heatmap(self, x: str, y: str) -> None:
        grid = self.query_one(HeatmapGrid)
        if x == y:
            grid.say("Choose two different parameters for the axes.")
            return
        self._lay_out_heatmap(x, y)

    @work(exclusive=True, group="heatmap-layout")
    async def _lay_out_heatmap(self, x: str, y: str) -> None:
        """Lay the heatmap out off the event loop, as many cells as the width shows: a
        grid of 80,000 results drawn cell for cell had frozen the whole process."""
        grid = self.query_one(HeatmapGrid)
        columns = max(3, ((grid.size.width or self.size.width) - HEATMAP_AXIS) // HEATMAP_CELL)
        table = await asyncio.to_thread(
            heatmap, self._evaluations, x, y, self._objective, self._min_trades,
            max_columns=columns, max_rows=HEATMAP_ROWS,
        )  # fmt: skip
        grid.show(table, self._objective)

    def on_resize(self) -> None:
        """Lay the heatmap out again for the new width once the size has settled: a
        terminal dragged to a new size sends a resize for every step on the way."""
        if self._relayout is not None:
            self._relayout.stop()
        self._relayout = self.set_timer(RELAYOUT_DELAY, self._relay_out_heatmap)

    def _relay_out_heatmap(self) -> None:
        self._relayout = None
        x = self.query_one("#heatmap-x", Select).value
        y = self.query_one("#heatmap-y", Select).value
        if self._evaluations and isinstance(x, str) and isinstance(y, str) and x != y:
            self._lay_out_heatmap(x, y)

    @on(Select.Changed, "#heatmap-x, #heatmap-y")
    def _axes_changed(self) -> None:
        x = self.query_one("#heatmap-x", Select).value
        y = self.query_one("#heatmap-y", Select).value
        if self._evaluations and isinstance(x, str) and isinstance(y, str):
            self._draw_heatmap(x, y)

    # --- palette -----------------------------------------------------------------------

    def palette_commands(self) -> Iterable[PaletteCommand]:
        strategy = self.form.strategy
        if strategy is None:
            return
        dataset = self.form.dataset
        for title, action in (
            (f"Backtest {strategy.id} on {dataset}", "backtest"),
            (f"Optimize {strategy.id} on {dataset}", "optimize"),
            (f"Walk-forward {strategy.id} on {dataset}", "walk_forward"),
            (f"Export Pine Script for {strategy.id}", "export_pine"),
            (f"Export PDF report for {strategy.id} on {dataset}", "export_pdf"),
        ):
            yield PaletteCommand(
                title, "with the parameters in the form",
                lambda action=action: self.run_action(action), action,
            )  # fmt: skip
        for job_id in self.finished_optimizations():
            title = self.deck.jobs.jobs[job_id].title
            yield PaletteCommand(
                f"Heatmap of job {job_id}: {title}", "its objective over two parameters",
                lambda job_id=job_id: self.load_heatmap(job_id),
            )  # fmt: skip
