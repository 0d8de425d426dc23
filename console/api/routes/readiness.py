"""``/readiness``: where a release stands on a checklist (the document ``quarterdeck check
status --json`` prints) and runs of its probes through the Deck's readiness service.

A run answers 202 with an id at once; ``GET /readiness/runs/{id}`` follows it, and the
stream's ``readiness`` topic carries each item's verdict as it lands. Runs are this
process's (the newest ``KEPT_RUNS``); their results are in the ledger for good.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from checks import Checklist, ChecklistError, ProbeResult, ReadinessService, builtin_checklist
from checks.ledger import state
from checks.release import Release, default_release
from checks.reports import as_json
from console.api.caller import Caller
from console.api.context import ApiContext, context_of
from console.api.problems import Problem, invalid
from core.access import Principal

router = APIRouter(tags=["readiness"])
Context = Annotated[ApiContext, Depends(context_of)]
KEPT_RUNS = 100
NAME = r"^[A-Za-z0-9_.:-]{1,100}$"


class Waiver(BaseModel):
    justification: str
    approver: str
    role: str = Field(description="The approver's role.")
    expires_at: str = Field(description="ISO 8601, UTC.")
    valid: bool = Field(description="False once expired.")


class Item(BaseModel):
    id: str
    title: str
    section: str
    severity: str = Field(description='"blocking" or "advisory".')
    kind: str = Field(description='"probe" (automated) or "manual" (attested).')
    scope: str = Field(description='What it examines: "target", "target-host", '
                       '"target-database", "quarterdeck" or "manual".')  # fmt: skip
    status: str = Field(description="Satisfied, waived, failing or missing, as reports say.")
    verdict: str = Field(description="The newest verdict (pass, warn, fail, error, ...).")
    reason: str
    actor: str | None = Field(description="Who gave the verdict (or ran the probe).")
    target: str | None = Field(description="The deployment the verdict was given on.")
    evidence: dict[str, Any]
    waiver: Waiver | None


class SignOff(BaseModel):
    role: str
    who: str
    note: str
    at: str = Field(description="ISO 8601, UTC.")


class Authorization(BaseModel):
    who: str
    at: str = Field(description="ISO 8601, UTC.")


class Readiness(BaseModel):
    """The release's state, as ``quarterdeck check status CHECKLIST --json`` prints it."""

    checklist: str
    version: str = Field(description="The release (QD_RELEASE, else the running version).")
    environment: str
    target: str | None = Field(description="The newest target verdicts were given on.")
    targets: list[str]
    ready: bool = Field(description="Every blocking item passes or holds a valid waiver.")
    authorizable: bool = Field(description="Ready, and every required role has signed.")
    authorized: bool
    missing_roles: list[str] = Field(description="Required roles with no valid sign-off.")
    signoffs: list[SignOff] = Field(description="The valid sign-offs, by role.")
    authorization: Authorization | None
    items: list[Item]
    running: bool = Field(description="A run of the readiness service is in progress.")


class RunRequest(BaseModel):
    checklist: str = Field(default="production", pattern=NAME,
                           description="A built-in checklist's id.")  # fmt: skip
    only: list[Annotated[str, Field(pattern=NAME)]] | None = Field(
        default=None, max_length=500, description="Run these items alone (default: all)."
    )
    release: str | None = Field(
        default=None, pattern=NAME, description="Record for this release (default: as GET)."
    )
    environment: str | None = Field(
        default=None, pattern=NAME, description="Default: QD_ENVIRONMENT."
    )


class Run(BaseModel):
    id: int
    state: str = Field(description='"running", "done", "failed" or "cancelled".')
    checklist: str
    release: str
    environment: str
    requested_by: str
    started_at: float = Field(description="Epoch seconds.")
    finished_at: float | None
    verdicts: dict[str, int] | None = Field(description="Items by verdict, once done.")
    error: str | None = Field(description="Why a failed run failed.")


@dataclass
class RunEntry:
    id: int
    release: Release
    actor: Principal
    task: asyncio.Task[dict[str, ProbeResult]]
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def document(self) -> dict[str, Any]:
        task, verdicts, error = self.task, None, None
        if not task.done():
            run_state = "running"
        elif task.cancelled():
            run_state = "cancelled"
        elif task.exception() is not None:
            run_state, error = "failed", str(task.exception())
        else:
            run_state = "done"
            counted = collections.Counter(r.verdict.value for r in task.result().values())
            verdicts = dict(sorted(counted.items()))
        return {"id": self.id, "state": run_state, "checklist": self.release.checklist,
                "release": self.release.version, "environment": self.release.environment,
                "requested_by": self.actor.name, "started_at": self.started_at,
                "finished_at": self.finished_at, "verdicts": verdicts,
                "error": error}  # fmt: skip


class ReadinessRuns:
    """The runs started through this API, newest ``KEPT_RUNS``, by id."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.runs: collections.OrderedDict[int, RunEntry] = collections.OrderedDict()

    def add(self, release: Release, actor: Principal,
            task: asyncio.Task[dict[str, ProbeResult]]) -> RunEntry:  # fmt: skip
        entry = RunEntry(next(self._ids), release, actor, task)
        task.add_done_callback(lambda _: setattr(entry, "finished_at", time.time()))
        self.runs[entry.id] = entry
        while len(self.runs) > KEPT_RUNS:
            self.runs.popitem(last=False)
        return entry


def runs_of(request: Request) -> ReadinessRuns:
    runs: ReadinessRuns = request.app.state.readiness_runs
    return runs


def service_of(context: Annotated[ApiContext, Depends(context_of)]) -> ReadinessService:
    if context.readiness is None:
        raise Problem(503, "this process runs no readiness service")
    return context.readiness


Service = Annotated[ReadinessService, Depends(service_of)]
Runs = Annotated[ReadinessRuns, Depends(runs_of)]


async def _checklist(service: ReadinessService, checklist_id: str, field_name: str) -> Checklist:
    """The service's own checklist, or a built-in one; 422 naming ``field_name`` if none."""
    if service.checklist is not None and service.checklist.id == checklist_id:
        return service.checklist
    try:
        return await asyncio.to_thread(builtin_checklist, checklist_id)
    except (KeyError, ChecklistError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        raise invalid(field_name, message) from None


def _release(context: ApiContext, checklist: Checklist, version: str | None,
             environment: str | None) -> Release:  # fmt: skip
    settings = context.settings
    return Release(checklist.id, version or default_release(settings),
                   environment or settings.environment)  # fmt: skip


@router.get("/readiness", response_model=Readiness,
            summary="Where a release stands: verdicts, waivers, sign-offs")  # fmt: skip
async def readiness(
    context: Context, service: Service, caller: Caller,
    checklist: Annotated[str | None, Query(pattern=NAME, description="Default: the "
                                           "readiness service's (production).")] = None,
    release: Annotated[str | None, Query(pattern=NAME, description="Default: QD_RELEASE, "
                                         "else the running version.")] = None,
    environment: Annotated[str | None, Query(pattern=NAME,
                                             description="Default: QD_ENVIRONMENT.")] = None,
) -> dict[str, Any]:  # fmt: skip
    chosen = await _checklist(service, checklist or service.checklist_id, "query.checklist")
    which = _release(context, chosen, release, environment)
    roles = tuple(context.settings.signoff_roles)
    current = await asyncio.to_thread(state, context.deck.store, chosen, which,
                                      required_roles=roles)  # fmt: skip
    return {**as_json(current), "running": service.running}


@router.post("/readiness/runs", response_model=Run, status_code=202,
             responses={403: {"description": "the caller's role may not run checks (audited)"}},
             summary="Run a checklist's probes; follow it by its id or on the stream")  # fmt: skip
async def start_run(
    body: RunRequest, context: Context, service: Service, runs: Runs, caller: Caller
) -> dict[str, Any]:
    chosen = await _checklist(service, body.checklist, "body.checklist")
    if body.only is not None:
        unknown = sorted(set(body.only) - {item.id for item in chosen.items})
        if unknown:
            raise invalid("body.only", f"{chosen.id} has no item {', '.join(unknown)}")
    which = _release(context, chosen, body.release, body.environment)
    own = service.checklist is not None and chosen is service.checklist
    task = await service.begin(body.only, checklist=None if own else chosen,
                               version=which.version, environment=which.environment,
                               actor=caller)  # fmt: skip
    return runs.add(which, caller, task).document()


@router.get("/readiness/runs/{run_id}", response_model=Run, summary="A run's state")
async def get_run(run_id: int, runs: Runs, caller: Caller) -> dict[str, Any]:
    entry = runs.runs.get(run_id)
    if entry is None:
        raise Problem(404, f"no readiness run {run_id} in this process (the newest "
                      f"{KEPT_RUNS} are kept; results stay in GET /api/v1/readiness)")  # fmt: skip
    return entry.document()
