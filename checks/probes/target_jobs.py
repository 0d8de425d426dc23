"""The target's background jobs, through its control API (``/api/v1/jobs``): submit one,
follow it, control it, and read the files it wrote.

Submitting and controlling jobs takes a key whose role may run them (an operator's):
a key refused, or a target with no jobs API (404), is ``OutOfReach``. A control the
target declines (409: the job is finished, or runs elsewhere) is an answer, returned
for the probe to judge.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import httpx

from checks.probes.http.client import ProbeClient, Unreachable, body_excerpt
from checks.probes.reach import OutOfReach
from checks.probes.target_engine import API, TargetEngine
from core.health.breaker import CircuitOpen

#: States a job does not leave.
FINISHED = frozenset({"done", "failed", "cancelled"})
#: How often a followed job is read.
POLL_SECONDS = 0.25
#: What a server without the route answers a POST to it (a static server: 405 or 501).
NO_ROUTE = frozenset({404, 405, 501})
#: Sent with every cancel, for the target's audit trail.
WHY = "readiness probe"


def _refused(response: httpx.Response, what: str) -> None:
    """``OutOfReach`` for an answer refusing the check's key."""
    if response.status_code in (401, 403):
        raise OutOfReach(f"{what} refused the check's key ({response.status_code}); job "
                         f"items need a key whose role may run jobs: {body_excerpt(response)}",
                         "api_key")  # fmt: skip


class TargetJobs:
    """Jobs on the target behind ``http`` (a ``ProbeClient`` on it)."""

    def __init__(self, http: ProbeClient) -> None:
        self.http = http
        self.engine = TargetEngine(http)
        self.submitted: list[int] = []

    async def submit(self, body: dict[str, Any]) -> int:
        """Queue ``body`` (``POST /jobs``); its id. A body the target refuses (422: a grid
        outside a range, an unknown strategy) is ``OutOfReach`` quoting the refusal."""
        what = f"POST {API}/jobs ({body.get('kind')})"
        response = await self._post("/jobs", body)
        if response.status_code in NO_ROUTE:
            raise OutOfReach(f"the target has no jobs API: {what} answered "
                             f"{response.status_code} (a target "
                             "that is not a Quarterdeck needs these items attested)")  # fmt: skip
        _refused(response, what)
        if response.status_code != 202:
            raise OutOfReach(f"{what} answered {response.status_code}: {body_excerpt(response)}")
        job_id = int(response.json()["id"])
        self.submitted.append(job_id)
        return job_id

    async def job(self, job_id: int) -> dict[str, Any]:
        return await self.engine.read(f"/jobs/{job_id}")

    async def control(self, job_id: int, action: str,
                      body: dict[str, Any] | None = None) -> httpx.Response:  # fmt: skip
        """``POST /jobs/{id}/{action}`` (cancel, pause, resume, priority): the answer."""
        response = await self._post(f"/jobs/{job_id}/{action}", body)
        _refused(response, f"POST {API}/jobs/{job_id}/{action}")
        return response

    async def cancel_quietly(self, job_id: int) -> bool:
        """Cancel ``job_id`` if it is unfinished; whether this call cancelled it. For
        clean-up: a job that finished meanwhile answers 409, which is no problem here."""
        response = await self._post(f"/jobs/{job_id}/cancel", {"why": WHY})
        return response.status_code == 200

    async def clean_up(self) -> list[int]:
        """Cancel every job this submitted that is still unfinished; their ids. Runs in a
        ``finally``: a target gone meanwhile leaves the error that ended the probe."""
        cancelled: list[int] = []
        with contextlib.suppress(Unreachable, CircuitOpen):
            for job_id in self.submitted:
                if await self.cancel_quietly(job_id):
                    cancelled.append(job_id)
        return cancelled

    async def follow(self, job_id: int, deadline: float) -> dict[str, Any]:
        """The job once finished, or as it stands at ``deadline`` (``time.monotonic``)."""
        while True:
            document = await self.job(job_id)
            if document.get("state") in FINISHED or time.monotonic() >= deadline:
                return document
            await asyncio.sleep(POLL_SECONDS)

    async def download(self, job_id: int) -> dict[str, bytes]:
        """Every file the job wrote, by name (``GET /jobs/{id}/files`` and each ``url``)."""
        listed = await self.http.get(f"{API}/jobs/{job_id}/files",
                                     headers=self.http.api_key_headers())  # fmt: skip
        if listed.status_code != 200:
            raise OutOfReach(f"GET {API}/jobs/{job_id}/files answered {listed.status_code}: "
                             f"{body_excerpt(listed)}")  # fmt: skip
        files: dict[str, bytes] = {}
        for entry in listed.json():
            answer = await self.http.get(entry["url"], headers=self.http.api_key_headers())
            files[entry["name"]] = answer.content if answer.status_code == 200 else b""
        return files

    async def simulated_dataset(self, given: str) -> str:
        """``given``, or ``sim:SYMBOL`` of the first symbol the target's market reports
        (``GET /portfolio``): data every Quarterdeck can make without an upload."""
        if given:
            return given
        market = (await self.engine.read("/portfolio")).get("market", [])
        if not market:
            raise OutOfReach("the target's portfolio reports no market symbol yet: give the "
                             "item a dataset (sim:SYMBOL or a catalog id)")  # fmt: skip
        return f"sim:{market[0]['symbol']}"

    async def _post(self, path: str, body: dict[str, Any] | None) -> httpx.Response:
        return await self.http.send("POST", f"{API}{path}", json=body,
                                    headers=self.http.api_key_headers())  # fmt: skip
