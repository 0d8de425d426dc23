"""The export job: a strategy's PDF report on a dataset, or its Pine Script, written
into the exports folder.

Files land in ``output_dir`` (the Deck passes ``<data dir>/exports``), are
listed in the job's history, and are removed by the retention sweep once
older than the configured age.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from core import bounds
from core.jobs.context import JobContext
from core.jobs.datasets import SIMULATED
from core.jobs.kinds import JobKind, check_numbers, parse_request
from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import get_strategy

FORMATS = ("report", "pine")


@dataclass(frozen=True)
class ExportRequest:
    strategy: str
    dataset: str
    output_dir: str
    format: str = "report"
    params: dict[str, float] = field(default_factory=dict)
    cash: float = 100_000.0
    commission: float = 0.0
    seed: int = 0
    bars: int = 5_000
    #: The optimize job whose best parameters ``params`` are, if they came from one.
    source_job: int | None = None

    def __post_init__(self) -> None:
        check_numbers(self, "export", {"cash": bounds.CASH, "commission": bounds.COMMISSION,
                                       "seed": bounds.SEED, "bars": bounds.SIM_BARS,
                                       "source_job": bounds.ROW_ID})  # fmt: skip
        if self.format not in FORMATS:
            raise ValueError(f"format: {self.format!r} is not one of {', '.join(FORMATS)}")
        strategy = get_strategy(self.strategy)
        strategy.resolve(self.params)  # names a bad parameter
        if self.format == "pine":
            from core.exports.pine import check_pine_body

            check_pine_body(strategy)
        BacktestConfig(cash=self.cash, commission=self.commission)

    @property
    def title(self) -> str:
        source = f" (best of job {self.source_job})" if self.source_job is not None else ""
        return f"{self.format} {self.strategy} {self.dataset}{source}"

    def describe_params(self) -> str:
        """The parameters the export uses, and where they came from: ``fast=42 slow=163,
        the best of job 7`` (a strategy's defaults fill in what ``params`` leaves out)."""
        resolved = get_strategy(self.strategy).resolve(self.params)
        shown = " ".join(f"{name}={value}" for name, value in resolved.items())
        if self.source_job is None:
            return shown
        return f"{shown}, the best of job {self.source_job}"

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def run_export(request: ExportRequest, context: JobContext) -> dict[str, Any]:
    strategy = get_strategy(request.strategy)
    config = BacktestConfig(cash=request.cash, commission=request.commission)
    folder = Path(request.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    if request.format == "pine":
        from core.exports.pine import export_pine

        path = folder / f"{strategy.id}-{stamp}.pine"
        path.write_text(export_pine(strategy, strategy.resolve(request.params), config))
        context.add_file(path)
        parameters = request.describe_params()
        return {"summary": f"wrote {path.name} with {parameters}", "path": str(path),
                "parameters": parameters, "strategy": strategy.id,
                "strategy_version": strategy.version}  # fmt: skip
    return _report(request, context, config, folder, stamp)


def _report(request: ExportRequest, context: JobContext, config: BacktestConfig, folder: Path,
            stamp: str) -> dict[str, Any]:  # fmt: skip
    from core.exports.report import build_report  # reportlab and matplotlib, only when used

    strategy = get_strategy(request.strategy)
    context.progress(0, 3)
    bars = context.bars(request.dataset, request.seed, request.bars)
    context.check()
    result = run_backtest(strategy, bars, request.params, config)
    context.progress(1, 3)
    context.check()
    name = request.dataset.removeprefix(SIMULATED).replace("/", "_")
    path = folder / f"{strategy.id}-{Path(name).stem}-{stamp}.pdf"
    build_report(path, strategy, bars, result, data_name=Path(name).name)
    context.add_file(path)
    context.progress(3, 3)
    metrics = result.metrics
    parameters = request.describe_params()
    return {
        "summary": f"wrote {path.name} with {parameters}: "
        f"total return {metrics['total_return']:.2%}",
        "path": str(path),
        "parameters": parameters,
        "metrics": metrics,
        "strategy": strategy.id,
        "strategy_version": strategy.version,
    }


EXPORT = JobKind(
    "export", lambda params: parse_request(ExportRequest, "export", params), run_export,
    lambda r: r.title,
)  # fmt: skip
