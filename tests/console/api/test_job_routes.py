"""Jobs over a real API on a real Deck: submitted, followed to their result, controlled,
refused, and their export files downloaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.access import Role
from core.config import Settings
from core.research.strategies import get_strategy
from tests.bar_files import bars_csv
from tests.console.api.conftest import Api
from tests.console.api.research import denials, finished, upload

OPTIMIZE = {"kind": "optimize", "strategy": "sma_cross", "dataset": "sim:SPY", "bars": 600,
            "grid": {"fast": [5, 15, 5], "slow": [20, 40, 10]}, "seed": 3,
            "min_trades": 0}  # fmt: skip
#: A search that runs for minutes: it holds the one job slot while a test queues others.
LONG = {**OPTIMIZE, "bars": 50_000, "grid": {"fast": [2, 100, 1], "slow": [101, 400, 1]}}


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """One job at a time, and searches of at most 40,000 combinations."""
    return settings.model_copy(update={"job_concurrency": 1, "sweep_max_combos": 40_000})


async def test_an_optimize_job_runs_to_done_and_answers_its_result(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        submitted = await client.post("/api/v1/jobs", json=OPTIMIZE)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        job = await finished(client, api.deck, job_id)
        done = await client.get("/api/v1/jobs", params={"state": "done"})
        queued = await client.get("/api/v1/jobs", params={"state": "queued"})
    assert job["state"] == "done", job["error"]
    assert (job["kind"], job["done"], job["progress"]) == ("optimize", 9, 1.0)
    assert job["result"]["evaluations"] == 9
    assert set(job["result"]["best_params"]) == {"fast", "slow"}
    assert job["result"]["strategy_version"] == get_strategy("sma_cross").version
    assert job["params"]["grid"] == {"fast": [5, 15, 5], "slow": [20, 40, 10]}
    assert job["checkpoints"] >= 1
    assert [j["id"] for j in done.json()] == [job_id]
    assert queued.json() == []


async def test_a_job_runs_on_an_uploaded_dataset(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        dataset = (await upload(client, bars_csv(500))).json()
        submitted = await client.post("/api/v1/jobs", json={**OPTIMIZE, "dataset": dataset["id"]})
        job = await finished(client, api.deck, submitted.json()["id"])
    assert job["state"] == "done", job["error"]
    assert job["params"]["dataset"] == f"catalog:{dataset['id']}"
    assert job["result"]["evaluations"] == 9


async def test_a_pine_export_is_listed_and_downloadable_and_nothing_else_is(api: Api) -> None:
    body = {"kind": "pine", "strategy": "sma_cross", "dataset": "sim:SPY",
            "params": {"fast": 7, "slow": 30}}  # fmt: skip
    async with api.client(Role.OPERATOR) as client:
        submitted = await client.post("/api/v1/jobs", json=body)
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["id"]
        job = await finished(client, api.deck, job_id)
        (listed,) = (await client.get(f"/api/v1/jobs/{job_id}/files")).json()
        download = await client.get(listed["url"])
        refused = [
            await client.get(f"/api/v1/jobs/{job_id}/files/{name}")
            for name in ("..%2F..%2Fquarterdeck.db", "..%2Fquarterdeck.db", "%2Fetc%2Fpasswd",
                         "%2E%2E", "quarterdeck.db", listed["name"] + ".bak")
        ]  # fmt: skip
        absolute = await client.get(f"/api/v1/jobs/{job_id}/files//etc/passwd")
    assert job["state"] == "done", job["error"]
    path = Path(job["files"][0])
    assert listed["name"] == path.name and listed["name"].endswith(".pine")
    assert listed["bytes"] == path.stat().st_size
    assert listed["url"] == f"/api/v1/jobs/{job_id}/files/{path.name}"
    assert download.status_code == 200
    assert download.content == path.read_bytes()
    assert "fast = input.int(7" in download.text
    assert [a.status_code for a in refused] == [404] * len(refused)
    assert absolute.status_code == 404


async def test_a_removed_export_is_a_404_saying_it_expired(api: Api) -> None:
    body = {"kind": "pine", "strategy": "sma_cross", "dataset": "sim:SPY"}
    async with api.client(Role.OPERATOR) as client:
        job_id = (await client.post("/api/v1/jobs", json=body)).json()["id"]
        job = await finished(client, api.deck, job_id)
        path = Path(job["files"][0])
        path.unlink()
        (listed,) = (await client.get(f"/api/v1/jobs/{job_id}/files")).json()
        answer = await client.get(listed["url"])
    assert listed["bytes"] is None
    assert answer.status_code == 404 and "expired" in answer.json()["detail"]


async def test_queued_jobs_are_paused_reprioritised_resumed_and_cancelled(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        running = (await client.post("/api/v1/jobs", json=LONG)).json()["id"]
        waiting = (await client.post("/api/v1/jobs", json=OPTIMIZE)).json()["id"]
        states = [(await client.get(f"/api/v1/jobs/{waiting}")).json()["state"]]
        for action, body in (("pause", None), ("priority", {"priority": "high"}),
                             ("resume", None), ("cancel", {"why": "testing"})):  # fmt: skip
            answer = await client.post(f"/api/v1/jobs/{waiting}/{action}", json=body)
            assert answer.status_code == 200, answer.text
            states.append((answer.json()["state"], answer.json()["priority"]))
        again = await client.post(f"/api/v1/jobs/{waiting}/cancel")
        live = (await client.get(f"/api/v1/jobs/{running}")).json()
        stopped = await client.post(f"/api/v1/jobs/{running}/cancel")
        assert stopped.status_code == 200
        outcome = await finished(client, api.deck, running)
    assert states == ["queued", ("paused", "normal"), ("paused", "high"), ("queued", "high"),
                      ("cancelled", "high")]  # fmt: skip
    assert again.status_code == 409
    assert again.json()["detail"] == f"job {waiting} cannot be cancelled: it is cancelled"
    assert live["state"] == "running" and {"rate", "eta_seconds", "progress"} <= set(live)
    assert outcome["state"] == "cancelled"


async def test_a_viewer_may_read_jobs_but_not_submit_or_control_them(api: Api) -> None:
    async with api.client(Role.OPERATOR) as operator:
        job_id = (await operator.post("/api/v1/jobs", json=OPTIMIZE)).json()["id"]
        await finished(operator, api.deck, job_id)
    async with api.client(Role.VIEWER) as viewer:
        submitted = await viewer.post("/api/v1/jobs", json=OPTIMIZE)
        cancel = await viewer.post(f"/api/v1/jobs/{job_id}/cancel")
        read = await viewer.get(f"/api/v1/jobs/{job_id}")
        listed = await viewer.get("/api/v1/jobs")
    assert submitted.status_code == 403
    assert submitted.headers["content-type"] == "application/problem+json"
    assert submitted.json()["action"] == "job.submit"
    assert cancel.status_code == 403
    assert read.status_code == 200 and read.json()["state"] == "done"
    assert [j["id"] for j in listed.json()] == [job_id]
    assert await denials(api.deck) == [("denied.job.submit", "viewer-user"),
                                       ("denied.job.cancel", "viewer-user")]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"strategy": "nope"}, "body.optimize.strategy", "unknown strategy 'nope'"),
    ({"grid": {"fast": [1, 500, 1]}}, "body.grid", "goes outside fast's range [2, 200]"),
    ({"grid": {"speed": [1, 5]}}, "body.grid", "has no parameter 'speed'"),
    ({"grid": {"fast": [5]}}, "body.optimize.grid.fast", "at least 2 items"),
    ({"grid": {"fast": [2, 200, 1], "slow": [10, 400, 1]}}, "body.grid",
     "more than QD_SWEEP_MAX_COMBOS (40,000)"),
    ({"method": "genetic"}, "body.optimize.method", "'grid', 'random' or 'tpe'"),
    ({"objective": "vibes"}, "body.optimize.objective", "unknown metric 'vibes'"),
    ({"dataset": "/etc/passwd"}, "body.dataset", "the API reads no server file"),
    ({"dataset": "spy.csv"}, "body.dataset", "the API reads no server file"),
    ({"dataset": "catalog:0123456789abcdef"}, "body.dataset", "no dataset '0123456789abcdef'"),
    ({"kind": "mine_bitcoin"}, "body", "'optimize', 'walk_forward', 'batch', 'pine', 'pdf'"),
    ({"seed": -1}, "body.optimize.seed", "greater than or equal to 0"),
    ({"output_dir": "/tmp"}, "body.optimize.output_dir", "Extra inputs"),
])  # fmt: skip
async def test_a_bad_job_is_a_422_naming_the_field(
    api: Api, change: dict[str, object], field: str, words: str
) -> None:
    async with api.client(Role.OPERATOR) as client:
        answer = await client.post("/api/v1/jobs", json={**OPTIMIZE, **change})
        listed = await client.get("/api/v1/jobs")
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["errors"][0]["field"] == field
    assert words in problem["detail"]
    assert listed.json() == []


async def test_walk_forward_batch_and_pdf_jobs_are_queued(api: Api) -> None:
    bodies = [
        {**OPTIMIZE, "kind": "walk_forward", "windows": 2, "mode": "anchored", "bars": 1_000},
        {"kind": "batch", "strategies": ["sma_cross", "rsi_reversion"],
         "datasets": ["sim:SPY", "sim:BTCUSD"], "priority": "low"},
        {"kind": "pdf", "strategy": "sma_cross", "dataset": "sim:SPY", "bars": 500},
    ]  # fmt: skip
    async with api.client(Role.OPERATOR) as client:
        ids = [(await client.post("/api/v1/jobs", json=body)).json()["id"] for body in bodies]
        jobs = [await finished(client, api.deck, job_id) for job_id in ids]
    assert [(j["kind"], j["state"]) for j in jobs] == [
        ("walk_forward", "done"),
        ("batch", "done"),
        ("export", "done"),
    ]
    assert len(jobs[0]["result"]["windows"]) == 2
    assert jobs[1]["priority"] == "low" and len(jobs[1]["result"]["rows"]) == 4
    assert jobs[2]["files"][0].endswith(".pdf")


async def test_an_unknown_job_is_a_404_and_a_bad_id_a_422(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        missing = [await client.get("/api/v1/jobs/999"),
                   await client.post("/api/v1/jobs/999/pause"),
                   await client.get("/api/v1/jobs/999/files"),
                   await client.get("/api/v1/jobs/999/files/x.pine")]  # fmt: skip
        bad = [await client.get("/api/v1/jobs/zero"), await client.get("/api/v1/jobs/0"),
               await client.get("/api/v1/jobs", params={"state": "sleeping"}),
               await client.get("/api/v1/jobs", params={"limit": 0}),
               await client.post("/api/v1/jobs/1/priority",
                                 json={"priority": "urgent"})]  # fmt: skip
    assert [a.status_code for a in missing] == [404] * 4
    assert missing[0].json()["detail"] == "no job 999"
    assert [a.status_code for a in bad] == [422] * 5
    assert [a.json()["errors"][0]["field"] for a in bad] == [
        "path.job_id",
        "path.job_id",
        "query.state",
        "query.limit",
        "body.priority",
    ]
