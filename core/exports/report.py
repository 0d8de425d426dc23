"""A PDF report of one backtest, or of an optimization and its best backtest.

Pages, in order: a title page (strategy, data range, parameters, settings);
performance (the metrics table, equity curve and drawdown); monthly returns;
for an optimization, the parameter heatmap with the best parameter sets,
then walk-forward validation and the overfitting statistics; the trade list
(as many pages as it takes, its header repeated); and the risk disclosure.
Every page carries a one-line disclaimer in its footer.

``build_report`` blocks (layout and charts take about a second) and is safe
in a worker thread; ``render_report_async`` runs it in one, so the event loop
never waits for a report. The file is written to a temporary name beside
the target and moved into place, so a failed render never leaves half a PDF.
With ``SOURCE_DATE_EPOCH`` set, the same inputs give the same bytes.

Layout is ReportLab's platypus through the engine every Quarterdeck report
shares (``core.exports.pdf``: fonts, table style, page furniture, the atomic
write): tables split across pages with their header repeated. Charts are
matplotlib PNGs (``core.exports.charts``). The text font is DejaVu Sans, the
TrueType font matplotlib ships, so the charts and the text match and any
character in a description prints.
"""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from core import __version__
from core.exports import charts
from core.exports import figures as fig
from core.exports.pdf import FONT_BOLD, GAIN, LOSS, RULE, Styles, page_width, write_pdf
from core.exports.pdf import LOCK as _LOCK  # the engine every report shares
from core.exports.pdf import escape as _escape
from core.exports.pdf import generated_default as _generated_default
from core.exports.pdf import register_fonts as _register_fonts
from core.exports.pdf import table as _table
from core.market.history import Bars
from core.outcomes import BANKRUPTCY_EFFECT, INFINITE, NO_LOSSES
from core.research.optimizer import Evaluation, OptimizationResult, Range
from core.research.runner import BacktestResult
from core.research.strategies import Strategy
from core.research.walkforward import WalkForwardResult

#: The trade list stops after this many trades (a note says how many there were).
MAX_TRADES = 5_000
#: Rows of the best-parameter-sets table.
TOP_RESULTS = 10

DISCLAIMER = "Simulated results. Past simulated results do not guarantee future returns."
RISK_DISCLOSURE = (
    "The results in this report are simulated. They come from applying a trading rule to "
    "historical prices after the fact, not from real trading. Past simulated results do not "
    "guarantee future returns.",
    "A simulation cannot account for everything that affects real trading: liquidity, market "
    "impact, financing, outages and the pressure of trading real money. Fills and costs here "
    "are modelled, not observed, and may differ from what a broker would have given.",
    "Parameters chosen by an optimization were fitted to the same history they are measured "
    "on, and such results usually overstate what the rule will earn on data it has not seen. "
    "The walk-forward and overfitting statistics, where present, estimate by how much.",
    "Trading involves the risk of loss, including losses larger than the starting capital "
    "for short or leveraged positions. Nothing in this report is investment advice.",
)

SEARCH_NAMES = {"grid": "Grid", "random": "Random", "tpe": "TPE (Optuna)"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
METRIC_LABELS = {
    "total_return": "Total return",
    "cagr": "CAGR",
    "volatility": "Volatility (annual)",
    "sharpe": "Sharpe ratio",
    "sortino": "Sortino ratio",
    "max_drawdown": "Max drawdown",
    "calmar": "Calmar ratio",
    "win_rate": "Win rate",
    "profit_factor": "Profit factor",
    "trades": "Closed trades",
    "exposure": "Exposure",
    "avg_trade": "Average trade",
    "best_trade": "Best trade",
    "worst_trade": "Worst trade",
    "sqn": "SQN",
    "equity_final": "Final equity",
}


@dataclass(frozen=True)
class OptimizationReport:
    """What an optimization adds to a report; ``backtest`` is then the best parameters' run.

    ``overfitting`` has ``pbo``, ``pbo_partitions``, ``pbo_trials`` and
    ``deflated_sharpe``; when they could not be computed, ``overfitting_note``
    says why.
    """

    result: OptimizationResult
    space: Mapping[str, Range]
    min_trades: int = 1
    walk_forward: WalkForwardResult | None = None
    overfitting: Mapping[str, float] | None = None
    overfitting_note: str | None = None


@dataclass(frozen=True)
class MonthlyReturns:
    """Calendar-month returns: ``months[i, m]`` is year ``years[i]``, month ``m`` (0 = Jan),
    NaN where the month has no bar; ``annual[i]`` is the year's return."""

    years: tuple[int, ...]
    months: np.ndarray
    annual: np.ndarray


def monthly_returns(ts: np.ndarray, equity: np.ndarray, start_cash: float) -> MonthlyReturns:
    """Each period's return compounds the bar-by-bar equity: the equity at its last bar
    over the equity at the previous period's last bar (the first against the cash)."""
    seconds = np.asarray(ts, dtype=np.float64).astype(np.int64).astype("datetime64[s]")
    month_ids = seconds.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    year_ids = month_ids // 12
    if month_ids.size == 0:
        return MonthlyReturns((), np.empty((0, 12)), np.empty(0))

    def period_returns(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        last = np.flatnonzero(np.diff(ids) != 0)
        last = np.append(last, ids.size - 1)
        closing = equity[last]
        opening = np.concatenate(([start_cash], closing[:-1]))
        with np.errstate(invalid="ignore", divide="ignore"):  # after a bankruptcy: 0 / 0
            return ids[last], np.where(opening > 0, closing / opening - 1.0, np.nan)

    month_keys, month_values = period_returns(month_ids)
    year_keys, year_values = period_returns(year_ids)
    first = int(year_keys[0])
    years = tuple(range(first + 1970, int(year_keys[-1]) + 1971))
    grid = np.full((len(years), 12), np.nan)
    grid[month_keys // 12 - first, month_keys % 12] = month_values
    annual = np.full(len(years), np.nan)
    annual[year_keys - first] = year_values
    return MonthlyReturns(years, grid, annual)


def build_report(
    path: str | Path,
    strategy: Strategy,
    bars: Bars,
    backtest: BacktestResult,
    *,
    data_name: str,
    optimization: OptimizationReport | None = None,
    max_trades: int = MAX_TRADES,
    generated: datetime | None = None,
) -> Path:
    """Write the report of ``backtest`` (run on ``bars``) to ``path`` and return it.

    Blocking: call it from a worker thread (or ``render_report_async``).
    ``generated`` is the date printed on the title page: by default
    ``SOURCE_DATE_EPOCH`` if set, else now.
    """
    path = Path(path)
    ts = np.asarray(bars["ts"], dtype=np.float64)
    if ts.shape != backtest.equity.shape:
        raise ValueError(f"{ts.size} bars but {backtest.equity.size} equity values")
    if ts.size == 0:
        raise ValueError("no bars to report on")
    generated = generated or _generated_default()
    pictures = _Charts.draw(ts, backtest, optimization)
    with _LOCK:
        _register_fonts()
        builder = _Builder(strategy, ts, backtest, data_name, optimization, generated)
        story = builder.story(pictures, max_trades)
        builder.write(path, story)
    return path


async def render_report_async(
    path: str | Path,
    strategy: Strategy,
    bars: Bars,
    backtest: BacktestResult,
    **options,
) -> Path:
    """``build_report`` in a worker thread: the event loop keeps running meanwhile."""
    return await asyncio.to_thread(build_report, path, strategy, bars, backtest, **options)


# --- the pieces ------------------------------------------------------------------------------


def _sentence(text: str) -> str:
    """``text`` with its first letter a capital (``str.capitalize`` lowers the rest)."""
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Charts:
    equity: bytes
    drawdown: bytes
    parameters: bytes | None
    parameters_title: str
    parameters_note: str

    @classmethod
    def draw(
        cls, ts: np.ndarray, backtest: BacktestResult, optimization: OptimizationReport | None
    ) -> _Charts:
        cash = backtest.config.cash
        picture, title, note = None, "", ""
        if optimization is not None:
            picture, title, note = _parameter_picture(optimization)
        return cls(
            charts.equity_chart(ts, backtest.equity, cash),
            charts.drawdown_chart(ts, backtest.equity, cash),
            picture,
            title,
            note,
        )


def swept_parameters(space: Mapping[str, Range], evaluations: Sequence[Evaluation]) -> list[str]:
    """The searched parameters that took more than one value, in the order given."""
    return [name for name in space if len({e.params.get(name) for e in evaluations}) > 1]


def score_grid(
    evaluations: Sequence[Evaluation], x: str, y: str, metric: str, maximise: bool
) -> tuple[list[float], list[float], np.ndarray]:
    """The objective at each (``y``, ``x``) pair: the best over any other parameters,
    NaN where no evaluation had that pair."""
    xs = sorted({e.params[x] for e in evaluations})
    ys = sorted({e.params[y] for e in evaluations})
    column = {v: i for i, v in enumerate(xs)}
    row = {v: i for i, v in enumerate(ys)}
    grid = np.full((len(ys), len(xs)), np.nan)
    better = np.fmax if maximise else np.fmin
    for e in evaluations:
        value = e.metrics[metric]
        if math.isnan(value):
            continue
        r, c = row[e.params[y]], column[e.params[x]]
        grid[r, c] = better(grid[r, c], value)
    return xs, ys, grid


def _parameter_picture(optimization: OptimizationReport) -> tuple[bytes | None, str, str]:
    """The heatmap (a line for one parameter), its title and a note on how to read it."""
    result = optimization.result
    metric, maximise = result.objective.metric, result.objective.maximise
    axes = swept_parameters(optimization.space, result.evaluations)
    best = result.best
    if not axes:
        return None, "Parameter heatmap", "The search varied no parameter: there is no map."
    if len(axes) == 1:
        name = axes[0]
        values, _, grid = score_grid(result.evaluations, name, name, metric, maximise)
        scores = [grid[i, i] for i in range(len(values))]
        at = values.index(best.params[name]) if best else None
        title = f"Parameter heatmap: {metric} by {name}"
        chart = charts.parameter_chart(name, values, scores, metric, at)
        return (
            chart,
            title,
            "One parameter was searched, so the map is a line. The box marks the best.",
        )
    x, y = axes[1], axes[0]
    xs, ys, grid = score_grid(result.evaluations, x, y, metric, maximise)
    spot = (ys.index(best.params[y]), xs.index(best.params[x])) if best else None
    title = f"Parameter heatmap: {metric} by {y} and {x}"
    chart = charts.heatmap_chart(x, xs, y, ys, grid, metric, maximise, spot)
    note = f"Each cell is the {metric} of that {y} and {x}"
    if len(axes) > 2:
        others = ", ".join(axes[2:])
        note += f", the {'best' if maximise else 'lowest'} over the values of {others}"
    note += "; blank cells were not evaluated or broke a constraint. The box marks the best."
    return chart, title, note


class _Builder:
    def __init__(
        self,
        strategy: Strategy,
        ts: np.ndarray,
        backtest: BacktestResult,
        data_name: str,
        optimization: OptimizationReport | None,
        generated: datetime,
    ) -> None:
        from reportlab.lib import colors

        self.strategy, self.ts, self.backtest = strategy, ts, backtest
        self.data_name, self.optimization, self.generated = data_name, optimization, generated
        self.kind = "Optimization report" if optimization else "Backtest report"
        intraday = bool(np.any(np.mod(ts, 86_400.0) != 0.0))
        pattern = "%Y-%m-%d %H:%M" if intraday else "%Y-%m-%d"
        self.date: Callable[[float], str] = _date_format(pattern)
        self.colors = colors
        styles = Styles.make()
        self.body, self.small, self.cell = styles.body, styles.small, styles.cell
        self.title, self.subtitle = styles.title, styles.subtitle
        self.heading, self.minor = styles.heading, styles.minor

    # -- document ------------------------------------------------------------------------

    def write(self, target: Path, story: list) -> None:
        write_pdf(
            target, story, title=f"{self.kind}: {self.strategy.name} on {self.data_name}",
            subject=DISCLAIMER, running_left=f"Quarterdeck · {self.kind} · {self.strategy.name}",
            running_right=self.data_name, footer=DISCLAIMER,
        )  # fmt: skip

    def story(self, pictures: _Charts, max_trades: int) -> list:
        from reportlab.platypus import PageBreak

        story = self.title_page()
        story += [PageBreak(), *self.performance(pictures)]
        story += [PageBreak(), *self.monthly()]
        if self.optimization is not None:
            story += [PageBreak(), *self.search(pictures)]
            story += [PageBreak(), *self.validation()]
        story += [PageBreak(), *self.trades(max_trades)]
        story += [PageBreak(), *self.disclosure()]
        return story

    # -- helpers -------------------------------------------------------------------------

    def paragraph(self, text: str, style=None):
        from reportlab.platypus import Paragraph

        return Paragraph(_escape(text), style or self.body)

    def table(
        self,
        rows: list[list],
        widths: Sequence[float],
        *,
        header: bool = True,
        right_from: int = 1,
        size: float = 8,
        long: bool = False,
        extra: Sequence[tuple] = (),
    ):
        return _table(rows, widths, header=header, right_from=right_from, size=size,
                      long=long, extra=extra)  # fmt: skip

    def image(self, png: bytes, width: float):
        from reportlab.lib.utils import ImageReader
        from reportlab.platypus import Image

        pixels_wide, pixels_high = ImageReader(io.BytesIO(png)).getSize()
        return Image(io.BytesIO(png), width=width, height=width * pixels_high / pixels_wide)

    @property
    def width(self) -> float:
        return page_width()

    def metric(self, name: str) -> str:
        shown = fig.metric(name, self.backtest.metrics[name])
        return f"{shown} ({NO_LOSSES})" if shown == INFINITE else shown

    # -- pages ---------------------------------------------------------------------------

    def title_page(self) -> list:
        from reportlab.platypus import Spacer

        s, ts, config = self.strategy, self.ts, self.backtest.config
        direction = config.direction or s.direction.value
        whose = "set for this run" if config.direction else "the strategy's own"
        story: list = [
            Spacer(1, 18),
            self.paragraph("QUARTERDECK", self.small),
            self.paragraph(self.kind, self.title),
            self.paragraph(f"{s.name} ({s.id})", self.subtitle),
            self.paragraph(s.description),
            Spacer(1, 10),
        ]
        facts = [
            ["Strategy", f"{s.name} ({s.id}), {s.family.value}"],
            ["Code", self.paragraph(f"{s.source}, version {s.version}", self.cell)],  # wraps a path
            ["Direction traded", f"{direction} ({whose})"],
            ["Data", self.data_name],
            ["Data range", f"{self.date(ts[0])} to {self.date(ts[-1])}"],
            ["Bars", f"{ts.size:,} ({_spacing(ts)})"],
            *(
                [["Outcome", _sentence(self.backtest.bankruptcy)]]
                if self.backtest.bankruptcy
                else []
            ),
            ["Generated", f"{self.generated:%Y-%m-%d %H:%M} UTC by Quarterdeck {__version__}"],
        ]
        story.append(self.table(facts, [110, self.width - 110], header=False, right_from=2))
        story += [self.paragraph("Parameters", self.minor), self.parameters_table()]
        story += [self.paragraph("Settings", self.minor), self.settings_table()]
        story += [
            Spacer(1, 14),
            self.paragraph(
                DISCLAIMER + " See the risk disclosure at the end of this report.", self.small
            ),
        ]
        return story

    def parameters_table(self):
        s, params = self.strategy, self.backtest.params
        space = self.optimization.space if self.optimization else {}
        value_head = "Best value" if self.optimization else "Value"
        rows: list[list] = [["Parameter", value_head, "Default", "Searched", "Description"]]
        for p in s.params:
            searched = space.get(p.name)
            span = _searched(searched) if searched else ""
            rows.append(
                [
                    p.name,
                    fig.parameter(params[p.name]),
                    fig.parameter(p.default),
                    span,
                    self.paragraph(p.description, self.cell),
                ]
            )
        widths = [70, 58, 50, 110, self.width - 288]
        if not space:
            rows = [[r[0], r[1], r[2], r[4]] for r in rows]
            widths = [90, 70, 60, self.width - 220]
        return self.table(
            rows,
            widths,
            right_from=1,
            extra=[
                ("ALIGN", (-1, 0), (-1, -1), "LEFT"),
                *([("ALIGN", (3, 0), (3, -1), "LEFT")] if space else []),
            ],
        )

    def settings_table(self):
        c = self.backtest.config
        fill = "next bar's open" if c.fill == "next_open" else "the signal bar's close"
        rows = [
            ["Starting cash", fig.money(c.cash)],
            ["Commission", f"{fig.short_percent(c.commission)} of notional per fill"],
            ["Fixed fee", f"{fig.money(c.fixed_fee)} per fill"],
            ["Slippage", f"{fig.number(c.slippage_bps, 2)} bps against each fill"],
            ["Fills", f"market orders at the {fill}"],
            ["Units", f"{c.units} units"],
            ["Position size", f"{fig.short_percent(c.size)} of equity per entry"],
            ["Stop loss", "none" if c.stop_loss is None else fig.short_percent(c.stop_loss)],
            ["Take profit", "none" if c.take_profit is None else fig.short_percent(c.take_profit)],
            ["Open trade at the end", "closed" if c.close_at_end else "marked to market"],
        ]
        return self.table(rows, [110, self.width - 110], header=False, right_from=2)

    def performance(self, pictures: _Charts) -> list:
        from reportlab.platypus import Spacer

        names = list(METRIC_LABELS)
        half = (len(names) + 1) // 2
        rows = [["Metric", "Value", "Metric", "Value"]]
        for left, right in zip(names[:half], names[half:] + [""] * half, strict=False):
            rows.append(
                [
                    METRIC_LABELS[left],
                    self.metric(left),
                    METRIC_LABELS.get(right, ""),
                    self.metric(right) if right else "",
                ]
            )
        quarter = self.width / 4
        metrics = self.table(
            rows,
            [quarter + 25, quarter - 25] * 2,
            size=8.5,
            extra=[("ALIGN", (2, 0), (2, -1), "LEFT")],
        )
        bankruptcy = self.backtest.bankruptcy
        return [
            self.paragraph("Performance", self.heading),
            *(
                [self.paragraph(f"{_sentence(bankruptcy)}: {BANKRUPTCY_EFFECT}.")]
                if bankruptcy
                else []
            ),
            metrics,
            Spacer(1, 4),
            self.paragraph(
                "Per-bar simple returns of equity with a zero risk-free rate, annualised by the "
                "bars per year of the data. Trade statistics count closed trades.",
                self.small,
            ),
            self.paragraph("Equity curve", self.minor),
            self.image(pictures.equity, self.width),
            self.paragraph("Drawdown", self.minor),
            self.image(pictures.drawdown, self.width),
        ]

    def monthly(self) -> list:
        table = monthly_returns(self.ts, self.backtest.equity, self.backtest.config.cash)
        rows: list[list] = [["", *MONTHS, "Year"]]
        extra = [
            ("FONTNAME", (0, 1), (0, -1), FONT_BOLD),
            ("FONTNAME", (-1, 1), (-1, -1), FONT_BOLD),
            ("LINEBEFORE", (-1, 0), (-1, -1), 0.6, self.colors.HexColor(RULE)),
        ]
        for i, year in enumerate(table.years):
            cells = [*table.months[i], table.annual[i]]
            rows.append([str(year), *("" if math.isnan(v) else fig.percent(v) for v in cells)])
            for j, value in enumerate(cells, start=1):
                if not math.isnan(value) and value != 0:
                    shade = self.colors.HexColor(GAIN if value > 0 else LOSS)
                    extra.append(("BACKGROUND", (j, i + 1), (j, i + 1), shade))
        first = self.width / 15 + 4
        widths = [first, *[(self.width - first) / 13] * 13]
        return [
            self.paragraph("Monthly returns", self.heading),
            self.paragraph(
                "Each month's return compounds the bar-by-bar equity: the equity at the month's "
                "last bar over the equity at the previous month's last bar (the first month "
                "against the starting cash). The Year column does the same with year ends. "
                "Blank: no bars that month.",
                self.small,
            ),
            self.table(rows, widths, size=6.6, long=True, extra=extra),
        ]

    def search(self, pictures: _Charts) -> list:
        from reportlab.platypus import Spacer

        opt = self.optimization
        assert opt is not None
        result = opt.result
        metric = result.objective.metric
        sense = "maximised" if result.objective.maximise else "minimised"
        qualified = [e for e in result.evaluations if e.metrics["trades"] >= opt.min_trades]
        summary = (
            f"{SEARCH_NAMES.get(result.method, result.method)} search of "
            f"{len(result.evaluations):,} parameter sets "
            f"({len(qualified):,} with at least {opt.min_trades} closed trades) for the "
            f"{sense} {metric}, in {fig.number(result.seconds, 2)} s."
        )
        story: list = [self.paragraph("Optimization", self.heading), self.paragraph(summary)]
        if result.best is not None:
            shown = _params_text(result.best.params, opt.space)
            best = result.best.metrics
            story.append(
                self.paragraph(
                    f"Best: {shown} with {metric} {fig.metric(metric, best[metric])}. "
                    "The performance, monthly returns and trades in this report are that parameter "
                    "set's backtest over the whole history.",
                    self.body,
                )
            )
        else:
            story.append(self.paragraph("No parameter set met the minimum trade count."))
        story.append(Spacer(1, 8))
        story.append(self.paragraph(pictures.parameters_title, self.minor))
        if pictures.parameters is not None:
            story.append(self.image(pictures.parameters, self.width))
        story.append(self.paragraph(pictures.parameters_note, self.small))
        story += [self.paragraph("Best parameter sets", self.minor), self.top_table(qualified)]
        return story

    def top_table(self, qualified: list[Evaluation]):
        opt = self.optimization
        assert opt is not None
        objective = opt.result.objective
        ranked = sorted(qualified, key=lambda e: objective.score(e.metrics), reverse=True)
        shown = [objective.metric] + [
            m for m in ("total_return", "sharpe", "max_drawdown", "trades") if m != objective.metric
        ]
        rows: list[list] = [["#", "Parameters", *(METRIC_LABELS[m] for m in shown)]]
        for rank, e in enumerate(ranked[:TOP_RESULTS], start=1):
            rows.append(
                [
                    str(rank),
                    self.paragraph(_params_text(e.params, opt.space), self.cell),
                    *(fig.metric(m, e.metrics[m]) for m in shown),
                ]
            )
        if len(rows) == 1:
            rows.append(["", "none qualified", *[""] * len(shown)])
        rest = (self.width - 20 - 170) / len(shown)
        return self.table(
            rows,
            [20, 170, *[rest] * len(shown)],
            right_from=2,
            extra=[("ALIGN", (0, 0), (0, -1), "RIGHT")],
        )

    def validation(self) -> list:
        from reportlab.platypus import Spacer

        opt = self.optimization
        assert opt is not None
        story: list = []
        wf = opt.walk_forward
        metric = opt.result.objective.metric
        story.append(self.paragraph("Walk-forward validation", self.heading))
        if wf is None:
            story.append(self.paragraph("Walk-forward validation was not run for this report."))
        else:
            story.append(
                self.paragraph(
                    f"{wf.mode.capitalize()} walk-forward over {len(wf.windows)} windows: each "
                    "window optimises on its in-sample period, then trades the winner on the "
                    "out-of-sample period that follows, with fresh cash. "
                    f"Scores are the {metric}.",
                    self.small,
                )
            )
            rows: list[list] = [
                [
                    "Window",
                    "In sample",
                    "Out of sample",
                    "Chosen parameters",
                    f"In {metric}",
                    f"Out {metric}",
                ]
            ]
            for w in wf.windows:
                chosen = _params_text(w.params, opt.space) if w.params else "none qualified"
                rows.append(
                    [
                        str(w.index),
                        self.paragraph(
                            f"{self.date(w.in_sample[0])} to {self.date(w.in_sample[1])}", self.cell
                        ),
                        self.paragraph(
                            f"{self.date(w.out_of_sample[0])} to {self.date(w.out_of_sample[1])}",
                            self.cell,
                        ),
                        self.paragraph(chosen, self.cell),
                        fig.metric(metric, w.in_sample_score),
                        fig.metric(metric, w.out_of_sample_score),
                    ]
                )
            rows.append(
                [
                    "Mean",
                    "",
                    "",
                    "",
                    fig.metric(metric, wf.mean_in_sample),
                    fig.metric(metric, wf.mean_out_of_sample),
                ]
            )
            degradation = fig.metric(metric, wf.degradation)
            rows.append(
                [
                    "Degradation (mean in sample minus mean out of sample)",
                    "",
                    "",
                    "",
                    "",
                    degradation,
                ]
            )
            dates = 116
            widths = [40, dates, dates, self.width - 40 - 2 * dates - 116, 58, 58]
            story.append(
                self.table(
                    rows,
                    widths,
                    right_from=4,
                    long=True,
                    extra=[
                        ("SPAN", (0, -1), (4, -1)),
                        ("FONTNAME", (0, -2), (-1, -1), FONT_BOLD),
                    ],
                )
            )
        story += [Spacer(1, 12), self.paragraph("Overfitting statistics", self.heading)]
        story += self.overfitting()
        return story

    def overfitting(self) -> list:
        from reportlab.platypus import Spacer

        opt = self.optimization
        assert opt is not None
        stats = opt.overfitting
        if stats is None:
            note = opt.overfitting_note or "not computed for this report"
            return [self.paragraph(f"Not available: {note}.")]
        pbo = (
            f"{int(stats['pbo_partitions'])} partitions of the history, "
            f"{int(stats['pbo_trials']):,} parameter sets"
        )
        trials = len(opt.result.evaluations)
        rows = [
            ["Statistic", "Value", "Basis"],
            ["Probability of backtest overfitting (PBO)", fig.number(stats["pbo"]), pbo],
            [
                "Deflated Sharpe ratio",
                fig.number(stats["deflated_sharpe"]),
                f"best of {trials:,} trials",
            ],
        ]
        return [
            self.table(
                rows,
                [200, 60, self.width - 260],
                right_from=1,
                extra=[("ALIGN", (2, 0), (2, -1), "LEFT")],
            ),
            Spacer(1, 6),
            self.paragraph(
                "PBO (combinatorially symmetric cross-validation): over every way of splitting "
                "the partitions into equal in-sample and out-of-sample halves, the share of "
                "splits where the in-sample winner ranks at or below the median out of sample. "
                "Near 0 is good; 0.5 or more means choosing the best in-sample was no better "
                "than chance.",
                self.small,
            ),
            self.paragraph(
                "Deflated Sharpe ratio: the probability that the chosen parameters' true "
                "Sharpe ratio is above zero, allowing for the number of trials, their spread "
                "and the skew and kurtosis of the returns. Below 0.95 the result is not "
                "significant at 5%.",
                self.small,
            ),
        ]

    def trades(self, max_trades: int) -> list:
        from reportlab.platypus import Spacer

        table = self.backtest.trades
        count = len(table)
        story: list = [self.paragraph("Trades", self.heading)]
        if count == 0:
            return [*story, self.paragraph("The strategy made no trades on this data.")]
        shown = min(count, max_trades)
        note = f"{count:,} trades" if shown == count else f"The first {shown:,} of {count:,} trades"
        story += [
            self.paragraph(
                f"{note}. Size is in units (negative: short); PnL is net of both legs' costs; an "
                "open trade is marked at the last close.",
                self.small,
            ),
            Spacer(1, 4),
        ]
        rows: list[list] = [
            [
                "#",
                "Side",
                "Entry",
                "Exit",
                "Size",
                "Entry price",
                "Exit price",
                "PnL",
                "Return",
                "Bars",
            ]
        ]
        for k in range(shown):
            t = table[k]
            rows.append(
                [
                    f"{k + 1:,}",
                    "long" if t.size > 0 else "short",
                    self.date(t.entry_time),
                    "open" if t.exit_time is None else self.date(t.exit_time),
                    fig.quantity(t.size),
                    fig.price(t.entry_price),
                    "" if t.exit_price is None else fig.price(t.exit_price),
                    fig.signed_money(t.pnl),
                    fig.percent(t.return_pct),
                    f"{t.bars_held:,}",
                ]
            )
        dates = 70 if len(self.date(0.0)) > 10 else 50
        widths = [30, 30, dates, dates, 52, 60, 60, 0, 48, 34]
        widths[7] = self.width - sum(widths)
        return [
            *story,
            self.table(
                rows,
                widths,
                right_from=4,
                size=7.2,
                long=True,
                extra=[("ALIGN", (0, 0), (0, -1), "RIGHT")],
            ),
        ]

    def disclosure(self) -> list:
        from reportlab.platypus import Spacer

        story: list = [self.paragraph("Risk disclosure", self.heading)]
        for text in RISK_DISCLOSURE:
            story += [self.paragraph(text), Spacer(1, 6)]
        return story


def _params_text(params: Mapping[str, float] | None, space: Mapping[str, Range]) -> str:
    """``fast=10 slow=30``: the searched parameters (all of them when none was searched)."""
    if not params:
        return ""
    names = [n for n in space if n in params] or list(params)
    return " ".join(f"{n}={fig.parameter(params[n])}" for n in names)


def _searched(bounds: Range) -> str:
    if bounds.start == bounds.stop:
        return f"held at {fig.parameter(bounds.start)}"
    start, stop, step = (fig.parameter(v) for v in (bounds.start, bounds.stop, bounds.step))
    return f"{start} to {stop} step {step}"


def _date_format(pattern: str) -> Callable[[float], str]:
    def show(ts: float) -> str:
        return datetime.fromtimestamp(float(ts), UTC).strftime(pattern)

    return show


def _spacing(ts: np.ndarray) -> str:
    """The typical bar interval in words: ``daily``, ``1 hour``, ``15 minutes``."""
    if ts.size < 2:
        return "one bar"
    seconds = float(np.median(np.diff(ts)))
    if seconds == 86_400:
        return "daily"
    if seconds == 7 * 86_400:
        return "weekly"
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{fig.number(seconds, 3)} seconds"
