"""``/health``, ``/health/detailed`` and ``/metrics``: the monitoring routes, outside the
versioned API (load balancers and Prometheus know them by these paths).

``/health`` answers from memory and is never rate limited; ``/health/detailed`` asks the
store one ``SELECT 1`` and is 503 when a component is down (``core.health.endpoints``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client.exposition import choose_encoder
from pydantic import BaseModel

from console.api.context import ApiContext, context_of
from console.api.responses import JsonText
from core.health.endpoints import DeckEndpoints

router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok", "starting"]
    run_id: str
    uptime_s: float


async def endpoints_of(context: Annotated[ApiContext, Depends(context_of)]) -> DeckEndpoints:
    return context.endpoints


Endpoints = Annotated[DeckEndpoints, Depends(endpoints_of)]


@router.get("/health", summary="Liveness: ok once the Deck runs", response_model=Liveness)
async def health(request: Request) -> JsonText:
    # No dependencies to solve and the answer as it is (not validated against its model
    # again): /health is polled often and has a latency budget (bench/README.md).
    context: ApiContext = request.app.state.context
    return JsonText(context.endpoints.health())


@router.get("/health/detailed", summary="Each component's status; 503 when one is down",
            responses={503: {"description": "a component is down"}})  # fmt: skip
async def detailed(endpoints: Endpoints) -> JsonText:
    status, body = await endpoints.detailed()
    return JsonText(body, status_code=status)


@router.get("/metrics", summary="Prometheus metrics (text, or OpenMetrics when accepted)",
            response_class=Response)  # fmt: skip
async def metrics(request: Request, endpoints: Endpoints) -> Response:
    """The exposition format is negotiated as prometheus_client's own ASGI app does
    (``Accept: application/openmetrics-text`` gets OpenMetrics)."""
    encode, media_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encode(endpoints.registry), media_type=media_type)
