"""``POST /api/v1/datasets`` (a CSV or Parquet upload into the data catalog) and
``GET /api/v1/datasets``: the bars jobs and backtests can run on, by id."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from pydantic import BaseModel, Field

from console.api.caller import Caller, current_principal
from console.api.context import ApiContext, context_of
from console.api.problems import Problem
from console.api.routes.inputs import SYMBOL_PATTERN
from core.market.catalog import Dataset, UnknownDataset
from core.market.loader import DataFileError

router = APIRouter(prefix="/datasets", tags=["datasets"],
                   dependencies=[Depends(current_principal)])  # fmt: skip
Context = Annotated[ApiContext, Depends(context_of)]


class DatasetDocument(BaseModel):
    id: str = Field(description="Its id: jobs and backtests name it as `dataset`. A prefix "
                    "of the content's SHA-256, so the same file uploaded again is the "
                    "same dataset.")  # fmt: skip
    name: str = Field(description="The file name it was uploaded as.")
    format: str = Field(description="csv, csv.gz or parquet")
    rows: int = Field(description="Bars in the file.")
    first_bar: str = Field(description="Time of the first bar, ISO 8601 UTC.")
    last_bar: str = Field(description="Time of the last bar, ISO 8601 UTC.")
    symbol: str | None = Field(description="The symbol, if the upload named one.")
    bytes: int
    added_at: str


def document(dataset: Dataset) -> DatasetDocument:
    return DatasetDocument.model_validate(dataset.as_json())


@router.post(
    "", status_code=201,
    summary="Upload a CSV or Parquet bar file into the data catalog",
    responses={200: {"description": "the same file was uploaded before: its dataset"},
               403: {"description": "the caller's role may not run jobs"},
               422: {"description": "the file does not load: names its row and column"}},
)  # fmt: skip
async def upload(
    context: Context, caller: Caller, response: Response,
    file: Annotated[UploadFile, File(description="OHLCV bars: a time column (date, time, "
                                     "timestamp or datetime), open, high, low, close and "
                                     "optionally volume; .csv, .csv.gz, .parquet or .pq")],
    symbol: Annotated[str | None, Form(pattern=f"^{SYMBOL_PATTERN}$",
                                       description="The bars' symbol, if known.")] = None,
) -> DatasetDocument:  # fmt: skip
    try:
        dataset, created = await context.deck.add_dataset(caller, file.filename or "",
                                                          file.file, symbol)  # fmt: skip
    except DataFileError as exc:
        raise Problem(422, str(exc), file=exc.path.name, row=exc.row, column=exc.column,
                      errors=[{"field": "body.file", "message": str(exc)}]) from None  # fmt: skip
    if not created:
        response.status_code = 200
    return document(dataset)


@router.get("", summary="The data catalog, newest first")
async def datasets(context: Context) -> list[DatasetDocument]:
    return [document(d) for d in await asyncio.to_thread(context.deck.catalog.entries)]


@router.get("/{dataset_id}", summary="One dataset of the catalog",
            responses={404: {"description": "no such dataset"}})  # fmt: skip
async def dataset(context: Context, dataset_id: str) -> DatasetDocument:
    try:
        return document(await asyncio.to_thread(context.deck.catalog.get, dataset_id))
    except UnknownDataset as exc:
        raise Problem(404, str(exc)) from None
