"""Trading actions for operators: stop, start and restart a strategy, cancel an order,
the kill switch and lifting a halt. Each calls the Deck's command with the caller, which
checks the role and audits the action (a refusal is 403 and ``denied.<action>``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field, field_validator

from console.api.caller import Caller
from console.api.context import ApiContext, context_of
from console.api.problems import Problem
from console.api.routes.account import risk_document
from console.api.routes.account_models import Risk
from core import bounds

router = APIRouter(tags=["trading"])
Context = Annotated[ApiContext, Depends(context_of)]
MAX_REASON = 500
REFUSED = {403: {"description": "the caller's role may not (audited as denied.<action>)"}}


class Reason(BaseModel):
    reason: str = Field(
        min_length=1, max_length=MAX_REASON, description="Why: audited, and journaled."
    )

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say why (it is audited)")
        return value.strip()


class StrategyAction(BaseModel):
    strategy: str
    state: str = Field(description='"running" or "stopped", after the action.')
    changed: bool = Field(description="False when it was in that state already.")


class Restarted(BaseModel):
    strategy: str
    old_version: str = Field(description="The code version it ran.")
    new_version: str = Field(description="The code version it runs from its next signal.")


class Cancelled(BaseModel):
    order_id: int
    cancelled: bool


StrategyId = Annotated[str, Path(max_length=200, description="A live strategy's id.")]


def _refused(context: ApiContext, strategy: str, exc: ValueError) -> Problem:
    """An unknown strategy is 404; anything else the engine refuses (halted) is 409."""
    if strategy not in context.deck.engine.specs_by_id:
        return Problem(404, str(exc))
    return Problem(409, str(exc))


@router.post("/strategies/{strategy}/stop", response_model=StrategyAction, responses=REFUSED,
             summary="Stop a strategy placing orders (cancels its working orders)")  # fmt: skip
async def stop_strategy(
    strategy: StrategyId, body: Reason, context: Context, caller: Caller
) -> dict[str, Any]:
    try:
        changed = await context.deck.stop_strategy(caller, body.reason, strategy)
    except ValueError as exc:
        raise _refused(context, strategy, exc) from None
    return {"strategy": strategy, "state": "stopped", "changed": changed}


@router.post("/strategies/{strategy}/start", response_model=StrategyAction, responses=REFUSED,
             summary="Let a stopped strategy trade again")  # fmt: skip
async def start_strategy(
    strategy: StrategyId, body: Reason, context: Context, caller: Caller
) -> dict[str, Any]:
    try:
        changed = await context.deck.start_strategy(caller, body.reason, strategy)
    except ValueError as exc:
        raise _refused(context, strategy, exc) from None
    return {"strategy": strategy, "state": "running", "changed": changed}


@router.post("/strategies/{strategy}/restart", response_model=Restarted, responses=REFUSED,
             summary="Run a strategy's newest loaded code, keeping its positions")  # fmt: skip
async def restart_strategy(
    strategy: StrategyId, body: Reason, context: Context, caller: Caller
) -> dict[str, Any]:
    try:
        old, new = await context.deck.restart_strategy(caller, body.reason, strategy)
    except ValueError as exc:
        raise _refused(context, strategy, exc) from None
    return {"strategy": strategy, "old_version": old, "new_version": new}


@router.post("/orders/{order_id}/cancel", response_model=Cancelled, responses={
             **REFUSED, 409: {"description": "the order is not working"}},
             summary="Cancel a working order")  # fmt: skip
async def cancel_order(
    order_id: Annotated[int, bounds.ROW_ID.field(description="A working order's id.")],
    body: Reason,
    context: Context,
    caller: Caller,
) -> dict[str, Any]:
    if not await context.deck.cancel_order(caller, body.reason, order_id):
        raise Problem(409, f"order {order_id} is not working (filled, cancelled or unknown)")
    return {"order_id": order_id, "cancelled": True}


@router.post("/risk/kill", response_model=Risk, responses=REFUSED,
             summary="The kill switch: halt, cancel every order, stop and flatten")  # fmt: skip
async def kill(body: Reason, context: Context, caller: Caller) -> dict[str, Any]:
    await context.deck.kill(caller, body.reason)
    return risk_document(context.deck)


@router.post("/risk/reset", response_model=Risk, responses=REFUSED,
             summary="Lift a halt (admin); strategies stay stopped until started")  # fmt: skip
async def reset(body: Reason, context: Context, caller: Caller) -> dict[str, Any]:
    await context.deck.reset_risk(caller, body.reason)
    return risk_document(context.deck)
