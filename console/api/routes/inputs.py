"""What the research routes share about their input: a strategy id, a dataset spec, a
job priority, and a core ``ValueError`` as a 422 problem naming its field.

A dataset is a catalog id (as ``POST /api/v1/datasets`` answers it, bare or as
``catalog:ID``) or ``sim:SYMBOL``. The API never takes a server file path: whoever
calls it reads no file of the server's but the ones uploaded to the catalog.
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from console.api.problems import invalid
from core.events import JobPriority
from core.jobs.datasets import CATALOGUED, SIMULATED
from core.market.catalog import ID_PATTERN, Catalog, UnknownDataset
from core.research.optimizer import Objective
from core.research.strategies import get_strategy

#: A symbol, in a ``sim:SYMBOL`` dataset or a dataset's metadata.
SYMBOL_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._/:-]{0,31}"
SYMBOL = re.compile(SYMBOL_PATTERN)


def known_strategy(strategy_id: str) -> str:
    try:
        get_strategy(strategy_id)
    except KeyError as exc:
        raise ValueError(str(exc)) from None
    return strategy_id


def known_objective(metric: str) -> str:
    Objective(metric)  # a ValueError lists the metrics
    return metric


StrategyId = Annotated[
    str, Field(max_length=100, description="A strategy id, as `GET /api/v1/strategies` lists.",
               examples=["sma_cross"]),
    AfterValidator(known_strategy),
]  # fmt: skip
DatasetSpec = Annotated[
    str, Field(max_length=100, description="A data catalog id (`GET /api/v1/datasets`), "
               "bare or as `catalog:ID`, or `sim:SYMBOL` for simulated hourly bars. Never "
               "a file path.", examples=["sim:SPY"]),
]  # fmt: skip
ParamValues = Annotated[
    dict[str, int | float],
    Field(max_length=50, description="Parameter values by name; the strategy's defaults "
          "fill in the rest."),
]  # fmt: skip
ObjectiveName = Annotated[
    str, Field(description="The metric the search maximises (e.g. sharpe, total_return)."),
    AfterValidator(known_objective),
]  # fmt: skip
Priority = Annotated[
    Literal["high", "normal", "low"], Field(description="Where the job waits in the queue.")
]


def priority_of(name: str) -> JobPriority:
    return JobPriority[name.upper()]


async def dataset_spec(catalog: Catalog, value: str, field: str = "dataset") -> str:
    """The job spec of a dataset named in a request (``catalog:ID`` or ``sim:SYMBOL``),
    or a 422 naming ``field``: an unknown catalog id, or anything else (a path)."""
    if value.startswith(SIMULATED):
        if not SYMBOL.fullmatch(value[len(SIMULATED) :]):
            raise invalid(f"body.{field}",
                          f"{value!r}: expected sim:SYMBOL (letters, digits, ._/:-)")  # fmt: skip
        return value
    dataset_id = value.removeprefix(CATALOGUED)
    if not ID_PATTERN.fullmatch(dataset_id):
        raise invalid(f"body.{field}", f"{value!r} is neither a data catalog id (see GET "
                             "/api/v1/datasets) nor sim:SYMBOL; the API reads no server "
                             "file")  # fmt: skip
    try:
        await asyncio.to_thread(catalog.get, dataset_id)
    except UnknownDataset as exc:
        raise invalid(f"body.{field}", str(exc)) from None
    return CATALOGUED + dataset_id
