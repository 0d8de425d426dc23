"""The target's trading engine, read and drilled through its control API (``/api/v1``).

A target that is a Quarterdeck (or exposes the same endpoints) answers ``GET /risk``
with its execution mode, risk state and every limit, ``GET /portfolio`` with its
positions and ``POST /risk/kill`` and ``/risk/reset`` to halt and lift it. Calls carry
the check's API key (``QD_CHECK_API_KEY``); the routes' own roles apply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from typing import Any

from checks.probes.http.client import ProbeClient, body_excerpt
from checks.probes.reach import OutOfReach

API = "/api/v1"


class TargetEngine:
    """Calls on the target's engine through ``http`` (a ``ProbeClient`` on the target)."""

    def __init__(self, http: ProbeClient) -> None:
        self.http = http

    async def read(self, path: str) -> dict[str, Any]:
        """``GET /api/v1{path}``'s JSON document."""
        return await self.get(f"{API}{path}")

    async def get(self, path: str, answered: Collection[int] = (200,)) -> dict[str, Any]:
        """``GET {path}``'s JSON document, for a status in ``answered`` (``/health/detailed``
        reports with a 503 when a component is down)."""
        response = await self.http.get(path, headers=self.http.api_key_headers())
        return self._document(response, f"GET {path}", answered)

    async def act(self, path: str, reason: str) -> dict[str, Any]:
        response = await self.http.send("POST", f"{API}{path}", json={"reason": reason},
                                        headers=self.http.api_key_headers())  # fmt: skip
        return self._document(response, f"POST {API}{path}")

    @staticmethod
    def _document(response: Any, what: str, answered: Collection[int] = (200,)) -> dict[str, Any]:
        if response.status_code == 404:
            raise OutOfReach(f"the target has no engine API: {what} answered 404 (a target "
                             "that is not a Quarterdeck needs these items attested)")  # fmt: skip
        if response.status_code in (401, 403):
            raise OutOfReach(f"{what} refused the check's key ({response.status_code}): "
                             f"{body_excerpt(response)}", "api_key")  # fmt: skip
        if response.status_code not in answered:
            raise OutOfReach(f"{what} answered {response.status_code}: {body_excerpt(response)}")
        document = response.json()
        if not isinstance(document, dict):
            raise OutOfReach(f"{what} did not answer a JSON object")
        return document

    async def open_positions(self) -> dict[str, float]:
        portfolio = await self.read("/portfolio")
        return {f"{p['strategy']}:{p['symbol']}": float(p["quantity"])
                for p in portfolio.get("positions", []) if float(p["quantity"])}  # fmt: skip

    async def flat_within(self, seconds: float) -> tuple[dict[str, float], int]:
        """Open positions and working orders once both are none, or when ``seconds`` end
        (the kill switch flattens at each symbol's next tick)."""
        deadline = time.monotonic() + seconds
        while True:
            positions = await self.open_positions()
            working = len((await self.read("/orders")).get("working", []))
            if (not positions and not working) or time.monotonic() >= deadline:
                return positions, working
            await asyncio.sleep(0.25)
