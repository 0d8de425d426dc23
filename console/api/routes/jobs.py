"""``/api/v1/jobs``: submit optimizations, walk-forwards, batches and exports; follow
them (state, progress, ETA, result); cancel, pause, resume and re-prioritise them.

A job is read from the store, as ``quarterdeck jobs list/show --json`` reads it (the
same fields), so the history outlives restarts; a job running here adds its speed and
ETA. Every change goes through the Deck's command layer with the caller's role.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from console.api.caller import Caller, current_principal
from console.api.context import ApiContext, context_of
from console.api.problems import Problem
from console.api.responses import JsonText
from console.api.routes.inputs import Priority, priority_of
from console.api.routes.job_requests import JobBody, submit
from console.commands.jobs import job_document
from core import bounds
from core.deck import Deck
from core.events import JobState
from core.jobs import records
from core.store import JobRow

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[Depends(current_principal)])
Context = Annotated[ApiContext, Depends(context_of)]
JobId = Annotated[int, bounds.ROW_ID.field(description="A job's id.")]


class Submitted(BaseModel):
    id: int = Field(description="The job's id: follow it at `GET /api/v1/jobs/{id}`.")
    state: str


class JobDocument(BaseModel):
    """A job, in the fields of `quarterdeck jobs show --json`, with its live speed."""

    id: int
    kind: str = Field(description="optimize, walk_forward, batch, export, backtest")
    title: str
    state: JobState
    priority: str = Field(description="high, normal or low")
    done: int = Field(description="Units of work done (evaluations, windows, pairs).")
    total: int
    progress: float | None = Field(description="done / total, from 0 to 1 (null: not known).")
    rate: float | None = Field(description="Units a second, while it runs in this process.")
    eta_seconds: float | None = Field(description="Seconds left at that rate.")
    params: dict[str, Any] = Field(description="The job's request, as stored.")
    result: dict[str, Any] | None = Field(description="Once done: best parameters, metrics, "
                                          "strategy and strategy_version.")  # fmt: skip
    error: str | None
    note: str | None
    files: list[str] = Field(description="Files it wrote (see `/api/v1/jobs/{id}/files`).")
    owner: str | None = Field(description="The process that runs it.")
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    checkpoints: int | None = Field(None, description="Checkpoints saved (one job only).")


def document(deck: Deck, row: JobRow, checkpoints: int | None = None) -> dict[str, Any]:
    """``jobs show --json``'s fields (``checkpoints`` for one job), with its progress and,
    while it runs in this process, its speed and ETA."""
    live = deck.jobs.jobs.get(row.id or 0)
    if live is not None and live.state.finished:
        live = None
    extra = {"checkpoints": checkpoints} if checkpoints is not None else {}
    return {**job_document(row), **extra,
            "progress": row.done / row.total if row.total > 0 else None,
            "rate": live.rate if live else None,
            "eta_seconds": live.eta_seconds if live else None}  # fmt: skip


async def stored_job(deck: Deck, job_id: int) -> JobRow:
    """The job's row as of now (queued writes flushed first), or a 404 problem."""
    await deck.writer.flush()
    row = await asyncio.to_thread(records.get_job, deck.store, job_id)
    if row is None:
        raise Problem(404, f"no job {job_id}")
    return row


@router.post("", status_code=202, summary="Queue a job",
             responses={403: {"description": "the caller's role may not run jobs"},
                        422: {"description": "a bad field, or too large a search"}})  # fmt: skip
async def create(context: Context, caller: Caller, body: Annotated[JobBody, Body()]) -> Submitted:
    job_id = await submit(context.deck, caller, body)
    return Submitted(id=job_id, state=context.deck.jobs.jobs[job_id].state.value)


@router.get("", summary="Jobs, newest first", response_model=list[JobDocument])
async def jobs(
    context: Context,
    state: Annotated[JobState | None, Query(description="Only jobs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=1_000)] = 50,
) -> JsonText:
    deck = context.deck
    await deck.writer.flush()
    wanted = state.value if state is not None else None
    rows = await asyncio.to_thread(records.list_jobs, deck.store, wanted, limit)
    return JsonText([document(deck, row) for row in rows])


@router.get("/{job_id}", summary="One job: state, progress, ETA and result",
            response_model=JobDocument,
            responses={404: {"description": "no such job"}})  # fmt: skip
async def job(context: Context, job_id: JobId) -> JsonText:
    deck = context.deck
    row = await stored_job(deck, job_id)
    saved = await asyncio.to_thread(records.checkpoints, deck.store, job_id)
    return JsonText(document(deck, row, len(saved)))


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    why: str = Field("", max_length=500, description="Recorded in the audit trail.")


class PriorityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: Priority


async def _controlled(deck: Deck, job_id: int, changed: bool, action: str) -> JsonText:
    """The job after a control; 404 if there is no such job, 409 if it cannot be
    ``action``-ed (finished, or run by another process)."""
    row = await stored_job(deck, job_id)
    if not changed:
        why = (f"it is {row.state}" if row.state not in records.UNFINISHED
               else f"it is run by {row.owner or 'no process'}, not this one")  # fmt: skip
        raise Problem(409, f"job {job_id} cannot be {action}: {why}")
    return JsonText(document(deck, row))


CONTROL = {"response_model": JobDocument,
           "responses": {403: {"description": "the caller's role may not run jobs"},
                         404: {"description": "no such job"},
                         409: {"description": "it is finished or runs elsewhere"}}}  # fmt: skip


@router.post("/{job_id}/cancel", summary="Stop a job for good", **CONTROL)
async def cancel(context: Context, caller: Caller, job_id: JobId,
                 body: Annotated[CancelBody | None, Body()] = None) -> JsonText:  # fmt: skip
    why = (body.why if body else "") or "cancelled over the API"
    changed = await context.deck.cancel_job(caller, job_id, why)
    return await _controlled(context.deck, job_id, changed, "cancelled")


@router.post("/{job_id}/pause", summary="Hold a job (a running one gives up its slot)", **CONTROL)
async def pause(context: Context, caller: Caller, job_id: JobId) -> JsonText:
    changed = await context.deck.pause_job(caller, job_id)
    return await _controlled(context.deck, job_id, changed, "paused")


@router.post("/{job_id}/resume", summary="Let a paused job go on", **CONTROL)
async def resume(context: Context, caller: Caller, job_id: JobId) -> JsonText:
    changed = await context.deck.resume_job(caller, job_id)
    return await _controlled(context.deck, job_id, changed, "resumed")


@router.post("/{job_id}/priority", summary="Move a waiting job up or down the queue", **CONTROL)
async def priority(context: Context, caller: Caller, job_id: JobId,
                   body: PriorityBody) -> JsonText:  # fmt: skip
    changed = await context.deck.set_job_priority(caller, job_id, priority_of(body.priority))
    return await _controlled(context.deck, job_id, changed, "re-prioritised")
