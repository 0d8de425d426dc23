"""``/public/performance``: the read-only transparency view, with no credentials.

The account's equity curve (one point per minute of market time, the newest
``EQUITY_POINTS``, as the console's chart draws it), the return since the start and
the drawdown from the peak at each point; nothing else of the account (no cash,
positions, orders or strategies). Off (404) unless ``QD_API_PUBLIC=true``; an answer is
kept for ``CACHE_SECONDS`` so a crowd of readers costs one computation, and the reads
rate limit applies as to every read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from console.api.context import ApiContext, context_of
from console.api.problems import Problem
from core.deck import Deck
from core.events import PortfolioSnapshot, equity_bucket

router = APIRouter(tags=["public"])
CACHE_SECONDS = 5.0


class Point(BaseModel):
    ts: float = Field(description="Market time (epoch seconds).")
    equity: float
    return_: float = Field(alias="return", description="Since the start, as a fraction.")
    drawdown: float = Field(description="Below the peak equity so far, as a fraction (>= 0).")


class Performance(BaseModel):
    as_of: float | None = Field(description="Market time of the newest point.")
    total_return: float | None = Field(description="At the newest point, as a fraction.")
    max_drawdown: float = Field(description="The deepest drawdown on the curve.")
    points: list[Point] = Field(description="Oldest first, one per minute of market time.")


class PerformanceCache:
    """The newest performance document and when it was made (``clock``: monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._made = -CACHE_SECONDS
        self._document: dict[str, Any] | None = None

    def get(self, deck: Deck) -> dict[str, Any]:
        now = self._clock()
        if self._document is None or now - self._made >= CACHE_SECONDS:
            self._document, self._made = performance_document(deck), now
        return self._document


def performance_document(deck: Deck) -> dict[str, Any]:
    # the account's points from the first market event on (the engine's first snapshot,
    # before any price, has no market time)
    curve = [s for s in deck.bus.kept(PortfolioSnapshot)
             if equity_bucket(s) is not None and s.ts > 0]  # fmt: skip
    points = [{"ts": s.ts, "equity": s.equity,
               "return": s.equity / s.starting_equity - 1 if s.starting_equity else 0.0,
               "drawdown": s.drawdown} for s in curve]  # fmt: skip
    newest = points[-1] if points else None
    return {"as_of": newest["ts"] if newest else None,
            "total_return": newest["return"] if newest else None,
            "max_drawdown": max((p["drawdown"] for p in points), default=0.0),
            "points": points}  # fmt: skip


def cache_of(request: Request) -> PerformanceCache:
    cache: PerformanceCache = request.app.state.performance_cache
    return cache


@router.get("/public/performance", response_model=Performance, response_model_by_alias=True,
            responses={404: {"description": "the public view is off (QD_API_PUBLIC)"}},
            summary="Equity curve, returns and drawdown; no account details; no auth")  # fmt: skip
async def performance(
    context: Annotated[ApiContext, Depends(context_of)],
    cache: Annotated[PerformanceCache, Depends(cache_of)],
) -> dict[str, Any]:
    if not context.settings.api_public:
        raise Problem(404, "the public performance view is off (QD_API_PUBLIC)")
    return cache.get(context.deck)
