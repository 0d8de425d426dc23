"""Pilot tests of the jobs screen's details view, rerun and palette, on a real started Deck."""

from __future__ import annotations

import asyncio
import json
import re

from textual.widgets import Static

from console.widgets.job_details import JobDetails
from core.config import Settings
from core.events import JobState
from core.jobs import records
from tests.console.pilot import LONG, make_app, static_text, wait_until

QUICK = {"strategy": "sma_cross", "dataset": "sim:BTCUSD", "params": {"fast": 5, "slow": 20},
         "bars": 500}  # fmt: skip


async def test_job_details_show_the_request_the_result_and_the_files(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        job_id = await deck.jobs.submit("backtest", QUICK)
        await wait_until(pilot, lambda: deck.jobs.jobs[job_id].state is JobState.DONE)
        await pilot.press("3")
        details = app.screen.query_one(JobDetails)
        assert not details.display  # hidden until asked for
        await pilot.press("d")
        assert details.display
        body = details.query_one("#job-details-body", Static)
        await wait_until(pilot, lambda: "Result" in static_text(body))
        text = static_text(body)
        assert details.border_title == f"Job {job_id} · details"
        assert re.search(r"State\s+done · priority normal", text)
        assert '"dataset": "sim:BTCUSD"' in text and '"bars": 500' in text
        assert "Files" in text and "none written" in text
        await pilot.press("d")
        assert not details.display
        await pilot.press("q")


async def test_rerun_queues_the_same_kind_and_request_as_a_new_job(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        first = await deck.jobs.submit("optimize", LONG)
        await pilot.press("3")
        await wait_until(pilot, lambda: deck.jobs.jobs[first].state is JobState.RUNNING)
        deck.jobs.cancel(first)
        await wait_until(pilot, lambda: deck.jobs.jobs[first].state is JobState.CANCELLED)
        await pilot.press("n")
        await wait_until(pilot, lambda: len(deck.jobs.jobs) == 2)
        second = max(deck.jobs.jobs)
        assert second != first and deck.jobs.jobs[second].kind == "optimize"
        assert any(f"Job {second} queued: a rerun of job {first}" in n.message
                   for n in app._notifications)  # fmt: skip
        await deck.writer.flush()
        rows = [await asyncio.to_thread(records.get_job, deck.store, i) for i in (first, second)]
        assert rows[0] is not None and rows[1] is not None
        assert json.loads(rows[1].params_json) == json.loads(rows[0].params_json)
        deck.jobs.cancel(second)
        await pilot.press("q")


async def test_palette_offers_cancel_and_rerun_by_job_and_state(settings: Settings) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: deck.running)
        job_id = await deck.jobs.submit("optimize", LONG)
        await pilot.press("3")
        await wait_until(pilot, lambda: deck.jobs.jobs[job_id].state is JobState.RUNNING)
        title = deck.jobs.jobs[job_id].title
        commands = {c.title: c for c in app.screen.palette_commands()}
        assert {f"Cancel job {job_id} ({title})", f"Pause job {job_id} ({title})",
                f"Rerun job {job_id} ({title})"} <= set(commands)  # fmt: skip
        assert f"Resume job {job_id} ({title})" not in commands  # it is not paused
        commands[f"Pause job {job_id} ({title})"].run()
        await wait_until(pilot, lambda: deck.jobs.jobs[job_id].state is JobState.PAUSED)
        commands = {c.title for c in app.screen.palette_commands()}
        assert f"Resume job {job_id} ({title})" in commands
        deck.jobs.cancel(job_id)
        await pilot.press("q")
