"""``GET /api/v1/jobs/{id}/files`` and ``/files/{name}``: the files an export job wrote
(Pine Script, PDF reports), listed and downloaded.

Only a file the job recorded can be had, by its name alone: the name is looked up
among the job's files, never joined to a folder, so no ``..`` or absolute name
reaches the disk. A file the retention sweep removed is 404.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from console.api.caller import current_principal
from console.api.context import ApiContext, context_of
from console.api.problems import Problem
from console.api.routes.jobs import JobId, stored_job

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[Depends(current_principal)])
Context = Annotated[ApiContext, Depends(context_of)]


class JobFile(BaseModel):
    name: str
    bytes: int | None = Field(description="Its size; null once the retention sweep removed it.")
    url: str = Field(description="Where to download it.")


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


async def recorded_files(context: ApiContext, job_id: int) -> dict[str, Path]:
    """The files job ``job_id`` recorded, by name (404 if there is no such job)."""
    row = await stored_job(context.deck, job_id)
    return {Path(text).name: Path(text) for text in json.loads(row.files_json or "[]")}


@router.get("/{job_id}/files", summary="The files a job wrote",
            responses={404: {"description": "no such job"}})  # fmt: skip
async def files(context: Context, request: Request, job_id: JobId) -> list[JobFile]:
    found = await recorded_files(context, job_id)
    sizes = await asyncio.to_thread(lambda: {name: _size(p) for name, p in found.items()})
    return [JobFile(name=name, bytes=sizes[name],
                    url=request.app.url_path_for("download", job_id=job_id, name=name))
            for name in found]  # fmt: skip


@router.get("/{job_id}/files/{name}", summary="Download a file a job wrote",
            response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}},
                       404: {"description": "no such job or file, or it expired"}})  # fmt: skip
async def download(context: Context, job_id: JobId, name: str) -> FileResponse:
    path = (await recorded_files(context, job_id)).get(name)
    if path is None:
        raise Problem(404, f"job {job_id} wrote no file {name!r}")
    if await asyncio.to_thread(_size, path) is None:
        raise Problem(404, f"{name} of job {job_id} has expired (removed by the retention "
                           "sweep)")  # fmt: skip
    return FileResponse(path, filename=name)
