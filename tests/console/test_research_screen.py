"""Pilot tests of the research screen on a real, started Deck: browse, check, backtest,
search, heatmap and export from the keyboard, and a viewer kept from launching jobs."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from textual.widgets import Select, Static, TabbedContent

from checks import ReadinessService
from console.app import QuarterdeckApp
from console.screens.research import ResearchScreen
from console.widgets.heatmap_grid import HeatmapGrid
from console.widgets.metrics_panel import MetricsPanel, formatted
from console.widgets.strategy_browser import StrategyBrowser
from core.access import Principal, Role
from core.config import Settings
from core.deck import Deck
from core.events import JobState
from core.jobs.datasets import dataset_bars
from core.jobs.records import get_job
from core.market.catalog import Catalog
from core.research.backtest import BacktestConfig
from core.research.grids import default_grid
from core.research.runner import run_backtest
from core.research.strategies import get_strategy
from tests.bar_files import bars_csv
from tests.console.pilot import static_text, wait_until

BARS = "300"


def research_app(settings: Settings, role: Role = Role.ADMIN) -> tuple[QuarterdeckApp, Deck]:
    deck = Deck(settings)
    readiness = ReadinessService(deck)
    deck.add_service(readiness)
    return QuarterdeckApp(deck, readiness, user=Principal("rita", role)), deck


async def open_research(pilot, dataset: str = "sim:SPY") -> ResearchScreen:
    await pilot.press("2")
    screen = pilot.app.screen
    assert isinstance(screen, ResearchScreen)
    await wait_until(pilot, lambda: screen.form.strategy is not None)
    screen.form.field("bars").value = BARS
    screen.query_one("#dataset", Select).value = dataset
    await pilot.pause()
    return screen


def error_text(screen: ResearchScreen, name: str) -> str | None:
    error = screen.query_one("#form-error" if name == "form" else f"#error-{name}", Static)
    return static_text(error).strip() if error.display else None


async def test_research_filter_keeps_matching_strategies(settings: Settings) -> None:
    app, _ = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_research(pilot)
        browser = app.screen.query_one(StrategyBrowser)
        assert len(browser.shown) == 68
        await pilot.press("slash", *"macd")
        # ids, names and descriptions are searched: Chaikin's is "MACD of the A/D line"
        assert browser.shown == ["macd_histogram", "macd_signal", "macd_zero",
                                 "chaikin_oscillator"]  # fmt: skip
        assert browser.border_subtitle == "4 of 68"
        await pilot.press("enter", "enter")  # into the tree, on the first; choose it
        assert app.screen.form.strategy is get_strategy("macd_histogram")
        assert [p.name for p in app.screen.form.strategy.params] == [
            "fast", "slow", "signal", "turn",
        ]  # fmt: skip
        assert app.screen.focused is app.screen.form.field("fast")
        await pilot.press("q")


async def test_research_bad_parameter_names_the_field_and_runs_nothing(
    settings: Settings,
) -> None:
    app, deck = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_research(pilot)
        screen.form.field("fast").value = "1000"
        await pilot.pause()
        assert error_text(screen, "fast") == "✗ fast: 1000 is outside [2, 200]"
        assert error_text(screen, "slow") is None
        await pilot.press("b")
        await pilot.pause(0.2)
        assert screen.result is None
        assert screen.query_one("#research-tabs", TabbedContent).active == "tab-setup"
        screen.form.field("fast").value = "50"
        screen.form.field("slow").value = "20"  # each in range, together against fast < slow
        await pilot.press("b")
        await pilot.pause(0.2)
        assert error_text(screen, "fast") is None
        assert "constraint fast < slow does not hold" in (error_text(screen, "form") or "")
        assert screen.result is None
        await pilot.press("o", "e")
        await pilot.pause(0.2)
        assert deck.jobs.jobs == {}
        await pilot.press("q")


async def test_research_backtest_matches_run_backtest(settings: Settings) -> None:
    app, _ = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_research(pilot)
        screen.form.field("fast").value = "8"
        await pilot.press("b")
        await wait_until(pilot, lambda: screen.result is not None)
        bars = dataset_bars("sim:SPY", settings.sim_seed, int(BARS))
        direct = run_backtest(get_strategy("sma_cross"), bars, {"fast": 8, "slow": 30},
                              BacktestConfig(commission=settings.commission))  # fmt: skip
        assert screen.result is not None
        assert screen.result.metrics == direct.metrics
        shown = screen.query_one(MetricsPanel).shown
        assert shown == formatted(direct.metrics)
        pinned = {k: shown[k] for k in ("total_return", "sharpe", "max_drawdown", "trades",
                                         "win_rate", "equity_final")}  # fmt: skip
        assert pinned == {
            "total_return": "▼ -0.63%", "sharpe": "-0.88", "max_drawdown": "4.99%",
            "trades": "4", "win_rate": "0.00%", "equity_final": "99,371.83",
        }  # fmt: skip
        trades = screen.query_one("#trades")
        assert trades.row_count == len(direct.trades)  # type: ignore[attr-defined]
        assert screen.query_one("#research-tabs", TabbedContent).active == "tab-result"
        await pilot.press("q")


async def test_research_optimize_walk_forward_and_heatmap(settings: Settings) -> None:
    app, deck = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        screen = await open_research(pilot)
        await pilot.press("h")  # nothing finished yet: a warning, no heatmap
        assert screen.query_one(HeatmapGrid).heatmap is None
        await pilot.press("o")
        await wait_until(pilot, lambda: 1 in deck.jobs.jobs)
        await pilot.press("w")
        await wait_until(pilot, lambda: 2 in deck.jobs.jobs)
        assert (deck.jobs.jobs[1].kind, deck.jobs.jobs[2].kind) == ("optimize", "walk_forward")
        row = await wait_for_job(pilot, deck, 1)
        params = json.loads(row.params_json)
        expected_grid = {k: list(v) for k, v in default_grid(get_strategy("sma_cross")).items()}
        assert params["grid"] == expected_grid == {
            "fast": [2.0, 200.0, 40.0], "slow": [3.0, 400.0, 80.0],
        }  # fmt: skip
        assert (params["dataset"], params["bars"]) == ("sim:SPY", int(BARS))
        await pilot.press("h")
        grid = screen.query_one(HeatmapGrid)
        await wait_until(pilot, lambda: grid.heatmap is not None)
        assert grid.heatmap is not None
        assert (grid.heatmap.x, grid.heatmap.y) == ("fast", "slow")
        assert grid.heatmap.xs == (2.0, 42.0, 82.0, 122.0, 162.0)
        assert grid.heatmap.ys == (3.0, 83.0, 163.0, 243.0, 323.0)
        best = json.loads(row.result_json or "{}")
        starred = [t for line in grid.cell_texts() for t in line if t.endswith("★")]
        assert starred == [f"{best['best_metrics']['sharpe']:.2f}★"]
        assert grid.cell_texts()[0][1] == "--"  # fast 42 >= slow 3: ruled out
        await pilot.press("q")


async def wait_for_job(pilot, deck: Deck, job_id: int):
    await wait_until(pilot, lambda: deck.jobs.jobs[job_id].state is JobState.DONE, 120)
    await deck.writer.flush()
    row = get_job(deck.store, job_id)
    assert row is not None and row.result_json is not None
    return row


async def test_research_exports_run_as_jobs(settings: Settings) -> None:
    app, deck = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        screen = await open_research(pilot)
        screen.form.field("slow").value = "40"
        await pilot.press("e")
        await wait_until(pilot, lambda: 1 in deck.jobs.jobs)
        await pilot.press("E")
        await wait_until(pilot, lambda: 2 in deck.jobs.jobs)
        pine = await wait_for_job(pilot, deck, 1)
        params = json.loads(pine.params_json)
        assert (params["format"], params["strategy"], params["params"]) == (
            "pine", "sma_cross", {"fast": 10, "slow": 40},
        )  # fmt: skip
        path = Path(json.loads(pine.result_json or "{}")["path"])
        assert "// Parameters: fast=10, slow=40" in path.read_text()
        report = await wait_for_job(pilot, deck, 2)
        assert json.loads(report.params_json)["format"] == "report"
        pdf = json.loads(report.result_json or "{}")["path"]
        await wait_until(pilot, lambda: len(notices(app, "written to")) == 2)
        assert notices(app, "written to") == [
            f"Pine Script export (job 1) written to {path}\nwith fast=10 slow=40",
            f"PDF report (job 2) written to {pdf}\nwith fast=10 slow=40",
        ]
        assert path.is_absolute() and Path(pdf).is_file()
        await pilot.press("q")


def notices(app: QuarterdeckApp, containing: str) -> list[str]:
    return [n.message for n in app._notifications if containing in n.message]


async def test_research_export_from_the_heatmap_uses_the_best_parameters(
    settings: Settings,
) -> None:
    app, deck = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        screen = await open_research(pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: 1 in deck.jobs.jobs)
        best = json.loads((await wait_for_job(pilot, deck, 1)).result_json or "{}")
        shown = " ".join(f"{k}={int(v)}" for k, v in best["best_params"].items())
        assert shown != "fast=10 slow=30"  # else the defaults would pass for the best
        await pilot.press("h")
        await wait_until(pilot, lambda: screen.query_one(HeatmapGrid).heatmap is not None)
        await pilot.press("e")
        await wait_until(pilot, lambda: 2 in deck.jobs.jobs)
        assert deck.jobs.jobs[2].title == "pine sma_cross sim:SPY (best of job 1)"
        pine = await wait_for_job(pilot, deck, 2)
        params = json.loads(pine.params_json)
        assert (params["params"], params["source_job"], params["bars"]) == (
            best["best_params"], 1, int(BARS),
        )  # fmt: skip
        path = json.loads(pine.result_json or "{}")["path"]
        assert f"// Parameters: {shown.replace(' ', ', ')}" in Path(path).read_text()
        await wait_until(pilot, lambda: notices(app, "written to"))
        assert notices(app, "written to") == [
            f"Pine Script export (job 2) written to {path}\nwith {shown}, the best of job 1"
        ]
        await pilot.press("s", "e")  # back on the form: its own parameters again
        await wait_until(pilot, lambda: 3 in deck.jobs.jobs)
        assert deck.jobs.jobs[3].title == "pine sma_cross sim:SPY"
        await pilot.press("q")


async def test_research_export_failure_is_announced_with_its_error(
    settings: Settings, monkeypatch
) -> None:
    import core.exports.pine

    def broken(*_: object) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(core.exports.pine, "export_pine", broken)
    app, deck = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        await open_research(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: notices(app, "failed"))
        assert notices(app, "failed") == ["Pine Script export (job 1) failed: OSError: disk full"]
        await pilot.press("q")


async def test_research_viewer_sees_job_actions_disabled(settings: Settings) -> None:
    app, deck = research_app(settings, Role.VIEWER)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        screen = await open_research(pilot)
        for action in ("optimize", "walk_forward", "export_pine", "export_pdf"):
            assert screen.check_action(action, ()) is None
            assert "viewer role may not run jobs" in (screen.denial_for(action) or "")
        assert screen.check_action("backtest", ()) is True
        shown = {c.title: c.help for c in app.get_system_commands(screen)}
        assert shown["Optimize sma_cross on sim:SPY"].startswith("disabled: ")
        assert shown["Backtest sma_cross on sim:SPY"] == "with the parameters in the form"
        await pilot.press("o", "w", "e", "E")
        await pilot.pause(0.3)
        assert deck.jobs.jobs == {}
        await pilot.press("q")


async def test_research_offers_the_data_catalog_and_backtests_on_it(settings: Settings) -> None:
    dataset, _ = Catalog(settings.catalog_dir).add("spy.csv", io.BytesIO(bars_csv(400)), "SPY")
    app, _ = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("2")
        screen = pilot.app.screen
        assert isinstance(screen, ResearchScreen)
        await wait_until(pilot, lambda: screen.form.strategy is not None)
        offered = ("spy.csv SPY · 400 bars", f"catalog:{dataset.id}")  # read off the loop

        def choices() -> list[tuple[str, object]]:
            options = screen.query_one("#dataset", Select)._options  # (label, value) pairs
            return [(str(label), value) for label, value in options]

        await wait_until(pilot, lambda: offered in choices())
        await pilot.press("1")  # one more arrives while another screen shows
        later, _ = Catalog(settings.catalog_dir).add("qqq.csv", io.BytesIO(bars_csv(300, 2)))
        await pilot.press("2")
        await wait_until(pilot, lambda: ("qqq.csv · 300 bars", f"catalog:{later.id}") in choices())
        screen.query_one("#dataset", Select).value = f"catalog:{dataset.id}"
        await pilot.press("b")
        await wait_until(pilot, lambda: screen.result is not None)
        bars = Catalog(settings.catalog_dir).bars(dataset.id)
        direct = run_backtest(get_strategy("sma_cross"), bars, {"fast": 10, "slow": 30},
                              BacktestConfig(commission=settings.commission))  # fmt: skip
        assert screen.result is not None and screen.result.metrics == direct.metrics
        title = static_text(screen.query_one("#result-title", Static))
        assert title.startswith(f"sma_cross on catalog:{dataset.id}, 400 bars · ")  # its own
        await pilot.press("q")


async def test_a_read_while_the_form_is_rebuilt_waits_for_the_whole_new_form(
    settings: Settings,
) -> None:
    """`2b` as one gesture: the backtest key can arrive while the form is still laying out
    the strategy's fields; it reads the new form once whole, never half of it."""
    app, _ = research_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_research(pilot)
        momentum = get_strategy("adx_trend")
        rebuild = asyncio.create_task(screen.form.show(momentum))
        await asyncio.sleep(0)  # the rebuild has begun: sma_cross's fields are going
        inputs = await screen.form.read()
        await rebuild
        assert inputs is not None and inputs.strategy is momentum
        assert inputs.params == {p.name: p.default for p in momentum.params}
        await pilot.press("q")
