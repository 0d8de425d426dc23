"""What the research route tests share: uploads, waiting for a job, the audit's refusals."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from core.audit import read_entries
from core.deck import Deck
from tests.bar_files import bars_csv


async def upload(client: httpx.AsyncClient, content: bytes | None = None,
                 name: str = "spy.csv", **form: str) -> httpx.Response:  # fmt: skip
    files = {"file": (name, content if content is not None else bars_csv(), "text/csv")}
    return await client.post("/api/v1/datasets", files=files, data=form)


async def finished(client: httpx.AsyncClient, deck: Deck, job_id: int) -> dict[str, Any]:
    """The job's document once it has finished (waited for through the Deck, not by
    polling the API)."""
    await deck.job_outcome(job_id)
    answer = await client.get(f"/api/v1/jobs/{job_id}")
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


async def denials(deck: Deck) -> list[tuple[str, str]]:
    """(action, actor) of every refusal audited so far."""
    entries = await asyncio.to_thread(read_entries, deck.store, "denied.")
    return [(e.action, e.actor) for e in entries]
