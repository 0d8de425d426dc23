"""``GET /api/v1/strategies`` and ``/{id}``: the strategy library, in the fields of
``quarterdeck strategies list --json``."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from console.api.caller import current_principal
from console.api.problems import Problem
from console.commands.research import describe
from core.research.strategies import all_strategies, get_strategy, load_errors

router = APIRouter(prefix="/strategies", tags=["strategies"],
                   dependencies=[Depends(current_principal)])  # fmt: skip


class ParamDocument(BaseModel):
    name: str
    type: str = Field(description="int or float")
    default: int | float
    min: int | float = Field(description="The smallest value the parameter takes.")
    max: int | float = Field(description="The largest value the parameter takes.")
    step: int | float = Field(description="The step a search takes by default.")


class StrategyDocument(BaseModel):
    id: str
    name: str
    family: str = Field(description="trend, mean reversion, volume, breakout, ...")
    direction: str = Field(description="The sides it trades by default: long, short or both.")
    description: str
    params: list[ParamDocument]
    source: str = Field(description="`built-in`, or the file (or package) it was loaded from.")
    version: str = Field(description="A hash of its source: results record the version "
                         "that produced them.")  # fmt: skip


class LoadErrorDocument(BaseModel):
    source: str = Field(description="The file or package that did not load.")
    line: int | None
    message: str
    error: str = Field(description="`source:line: message`")


class Library(BaseModel):
    strategies: list[StrategyDocument]
    errors: list[LoadErrorDocument] = Field(description="What did not load, and why.")


def _library() -> dict[str, Any]:
    return {"strategies": [describe(s) for s in all_strategies()],
            "errors": [e.as_json() for e in load_errors()]}  # fmt: skip


def _one(strategy_id: str) -> dict[str, Any]:
    return describe(get_strategy(strategy_id))


@router.get("", summary="Every strategy, built-in and user, and what did not load")
async def strategies() -> Library:
    # Listing may load the strategies folder (imports, file reads): off the loop.
    return Library.model_validate(await asyncio.to_thread(_library))


@router.get("/{strategy_id}", summary="One strategy: parameters, source and version",
            responses={404: {"description": "no such strategy"}})  # fmt: skip
async def strategy(strategy_id: str) -> StrategyDocument:
    try:
        return StrategyDocument.model_validate(await asyncio.to_thread(_one, strategy_id))
    except KeyError as exc:
        raise Problem(404, str(exc)) from None
