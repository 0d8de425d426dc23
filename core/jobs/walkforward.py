"""The walk-forward job: optimise in-sample and trade out-of-sample, window by window,
each window checkpointed."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from core import bounds
from core.jobs.context import JobContext
from core.jobs.kinds import JobKind, Params, check_numbers, parse_request
from core.jobs.optimize import OptimizeRequest, with_grid_tuples
from core.research.backtest import BacktestConfig
from core.research.optimizer import Objective
from core.research.strategies import get_strategy
from core.research.walkforward import WindowResult, walk_forward


@dataclass(frozen=True)
class WalkForwardRequest(OptimizeRequest):
    """An optimization repeated over ``windows`` in-sample/out-of-sample splits."""

    KIND: ClassVar[str] = "walk_forward"
    mode: str = "rolling"
    windows: int = 4

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.mode not in ("rolling", "anchored"):
            raise ValueError(f"mode: {self.mode!r} is not rolling or anchored")
        check_numbers(self, "walk_forward", {"windows": bounds.WINDOWS})

    def runs(self) -> int:
        return self.windows

    @property
    def title(self) -> str:
        return f"walk-forward {self.strategy} {self.dataset}"

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def run_walk_forward(request: WalkForwardRequest, context: JobContext) -> dict[str, Any]:
    strategy = get_strategy(request.strategy)
    bars = context.bars(request.dataset, request.seed, request.bars)
    context.progress(0, request.windows)
    saved = [
        WindowResult(**{**window, "in_sample": tuple(window["in_sample"]),
                        "out_of_sample": tuple(window["out_of_sample"])})
        for window in context.resume
    ]  # fmt: skip
    result = walk_forward(
        strategy, bars, request.space(),
        mode=request.mode, windows=request.windows, method=request.method,  # type: ignore[arg-type]
        trials=request.trials, objective=Objective(request.objective),
        config=BacktestConfig(commission=request.commission), min_trades=request.min_trades,
        seed=request.seed, progress=context.progress, should_stop=context.should_stop,
        resume=saved, on_window=lambda window: context.checkpoint(asdict(window)),
        executor=context.executor,
    )  # fmt: skip
    degradation = result.degradation
    shown = "n/a" if degradation is None else f"{degradation:.2f}"
    return {
        "summary": f"{len(result.windows)} windows, {request.objective} degradation {shown}",
        "windows": [asdict(window) for window in result.windows],
        "strategy": strategy.id,
        "strategy_version": strategy.version,
        "mean_in_sample": result.mean_in_sample,
        "mean_out_of_sample": result.mean_out_of_sample,
        "degradation": degradation,
    }


def parse_walk_forward(params: Params) -> WalkForwardRequest:
    return parse_request(WalkForwardRequest, "walk_forward", with_grid_tuples(params))


WALK_FORWARD = JobKind(
    "walk_forward", parse_walk_forward, run_walk_forward, lambda r: r.title,
    WalkForwardRequest.check_size,
)  # fmt: skip
