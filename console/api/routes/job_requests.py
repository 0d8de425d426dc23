"""The body of ``POST /api/v1/jobs``, one model a kind, and how each is queued: through
the job request models of ``core.jobs`` and the Deck's command layer, which checks the
caller's role (and audits a refusal) and the size of a search (``QD_SWEEP_MAX_COMBOS``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from console.api.problems import invalid
from console.api.routes.inputs import (
    DatasetSpec,
    ObjectiveName,
    ParamValues,
    Priority,
    StrategyId,
    dataset_spec,
    priority_of,
)
from core import bounds
from core.access import Principal
from core.deck import Deck
from core.jobs import BatchRequest, OptimizeRequest, WalkForwardRequest
from core.research.space import SearchTooLarge
from core.research.strategies import ParameterError

GridRange = Annotated[list[int | float], Field(min_length=2, max_length=3)]


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")

    priority: Priority = "normal"


class Search(Job):
    strategy: StrategyId
    dataset: DatasetSpec
    method: Literal["grid", "random", "tpe"] = "grid"
    grid: dict[str, GridRange] = Field(
        default_factory=dict, max_length=50,
        description="The values to search, by parameter: [START, STOP] or [START, STOP, "
                    "STEP], both ends included (the CLI's NAME=START:STOP:STEP), within the "
                    "parameter's range (`GET /api/v1/strategies/{id}`); a parameter left out "
                    "keeps its default.",
    )  # fmt: skip
    trials: int | None = bounds.POSITIVE_COUNT.field(
        None, description="Combinations a random or TPE search tries (default: all, or 100)."
    )
    objective: ObjectiveName = "sharpe"
    min_trades: int = bounds.COUNT.field(1, description="Fewer trades do not qualify.")
    commission: float = bounds.COMMISSION.field(0.0005, description="Fraction of notional.")
    seed: int = bounds.SEED.field(0, description="Seed of the search and of a `sim:` dataset.")
    bars: int = bounds.SIM_BARS.field(5_000, description="Bars of a `sim:` dataset.")

    def request_fields(self, spec: str) -> dict[str, object]:
        """The fields of the job's request in ``core.jobs``, reading ``dataset`` as ``spec``."""
        grid = {name: tuple(ends) for name, ends in self.grid.items()}
        return {**self.model_dump(exclude={"kind", "priority", "grid", "dataset"}),
                "dataset": spec, "grid": grid}  # fmt: skip


class OptimizeJob(Search):
    """Search a strategy's parameters on one dataset."""

    kind: Literal["optimize"]


class WalkForwardJob(Search):
    """Optimise in-sample and trade out-of-sample, window by window."""

    kind: Literal["walk_forward"]
    mode: Literal["rolling", "anchored"] = "rolling"
    windows: int = bounds.WINDOWS.field(4)


class BatchJob(Job):
    """Every strategy on every dataset, each pair backtested or briefly searched."""

    kind: Literal["batch"]
    strategies: list[StrategyId] = Field(min_length=1, max_length=200)
    datasets: list[DatasetSpec] = Field(min_length=1, max_length=200)
    trials: int = bounds.POSITIVE_COUNT.field(1, description="Searches of each pair.")
    objective: ObjectiveName = "sharpe"
    commission: float = bounds.COMMISSION.field(0.0005)
    seed: int = bounds.SEED.field(0)


class ExportJob(Job):
    """A strategy as Pine Script (`pine`) or a PDF report of its backtest (`pdf`), into
    files `GET /api/v1/jobs/{id}/files` lists."""

    kind: Literal["pine", "pdf"]
    strategy: StrategyId
    dataset: DatasetSpec
    params: ParamValues = {}
    seed: int = bounds.SEED.field(0)
    bars: int = bounds.SIM_BARS.field(5_000)


JobBody = Annotated[OptimizeJob | WalkForwardJob | BatchJob | ExportJob,
                    Field(discriminator="kind")]  # fmt: skip


async def submit(deck: Deck, caller: Principal, body: JobBody) -> int:
    """Queue ``body`` as ``caller``: its job id, or a ``Problem`` (422 naming the field,
    403 through ``PermissionDenied``)."""
    priority = priority_of(body.priority)
    if isinstance(body, ExportJob):
        spec = await dataset_spec(deck.catalog, body.dataset)
        try:
            return await deck.submit_export(
                caller, body.strategy, spec, dict(body.params),
                format="pine" if body.kind == "pine" else "report", bars=body.bars,
                seed=body.seed, priority=priority,
            )  # fmt: skip
        except ParameterError as exc:
            raise invalid("body.params", str(exc)) from None
        except ValueError as exc:  # a strategy with no Pine Script body
            raise invalid("body.strategy", str(exc)) from None
    if isinstance(body, BatchJob):
        specs = [await dataset_spec(deck.catalog, d, f"datasets.{i}")
                 for i, d in enumerate(body.datasets)]  # fmt: skip
        request = BatchRequest(tuple(body.strategies), tuple(specs), trials=body.trials,
                               objective=body.objective, commission=body.commission,
                               seed=body.seed)  # fmt: skip
        try:
            return await deck.submit_batch(caller, request, priority)
        except SearchTooLarge as exc:
            raise invalid("body.trials", str(exc)) from None
    spec = await dataset_spec(deck.catalog, body.dataset)
    try:
        kind = WalkForwardRequest if isinstance(body, WalkForwardJob) else OptimizeRequest
        request = kind(**body.request_fields(spec))
        return await deck.submit_job(caller, body.kind, request.as_params(), priority)
    except ValueError as exc:  # the grid outside a range, or too large a search
        raise invalid("body.grid", str(exc)) from None
