"""Strategies, datasets and synchronous backtests over a real API on a real Deck."""

from __future__ import annotations

import pytest

from console.api.routes import backtests
from console.commands.research import backtest_document, describe
from core.access import Role
from core.jobs.datasets import dataset_bars
from core.research.backtest import BacktestConfig
from core.research.runner import run_backtest
from core.research.strategies import all_strategies, get_strategy
from tests.bar_files import bars_csv, bars_parquet, broken_csv
from tests.console.api.conftest import Api
from tests.console.api.research import denials, upload

PROBLEM = "application/problem+json"


async def test_strategies_lists_the_library_in_the_fields_of_the_cli(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        answer = await client.get("/api/v1/strategies")
    assert answer.status_code == 200
    listed = answer.json()
    assert listed["errors"] == []
    assert listed["strategies"] == [describe(s) for s in all_strategies()]
    sma = next(s for s in listed["strategies"] if s["id"] == "sma_cross")
    assert sma["source"] == "built-in" and sma["version"]
    assert sma["params"][0] == {"name": "fast", "type": "int", "default": 10, "min": 2,
                                "max": 200, "step": 1}  # fmt: skip


async def test_one_strategy_by_id_and_an_unknown_one_is_a_404_naming_it(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        known = await client.get("/api/v1/strategies/rsi_reversion")
        unknown = await client.get("/api/v1/strategies/no_such_thing")
    assert known.status_code == 200
    assert known.json() == describe(get_strategy("rsi_reversion"))
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == PROBLEM
    assert unknown.json()["detail"] == "unknown strategy 'no_such_thing'"


async def test_research_routes_need_credentials(api: Api) -> None:
    async with api.client() as client:
        answers = [await client.get("/api/v1/strategies"), await client.get("/api/v1/datasets"),
                   await client.get("/api/v1/jobs"), await upload(client)]  # fmt: skip
    assert [a.status_code for a in answers] == [401] * 4


async def test_an_upload_is_catalogued_once_and_listed(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        first = await upload(client, bars_csv(300), "spy.csv", symbol="SPY")
        again = await upload(client, bars_csv(300), "copy-of-spy.csv")
        parquet = await upload(client, bars_parquet(200, seed=3), "btc.parquet")
        listed = await client.get("/api/v1/datasets")
        one = await client.get(f"/api/v1/datasets/{first.json()['id']}")
    assert first.status_code == 201, first.text
    dataset = first.json()
    assert (dataset["name"], dataset["rows"], dataset["symbol"]) == ("spy.csv", 300, "SPY")
    assert dataset["first_bar"] == "2023-11-14T22:13:20+00:00"
    assert again.status_code == 200 and again.json() == dataset
    assert parquet.status_code == 201 and parquet.json()["format"] == "parquet"
    assert {d["id"] for d in listed.json()} == {dataset["id"], parquet.json()["id"]}
    assert one.json() == dataset


async def test_a_malformed_upload_is_a_422_naming_the_file_row_and_column(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        answer = await upload(client, broken_csv(), "prices.csv")
        listed = await client.get("/api/v1/datasets")
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["detail"] == "prices.csv:4 [close]: not a number: 'oops'"
    assert (problem["file"], problem["row"], problem["column"]) == ("prices.csv", 4, "close")
    assert problem["errors"][0]["field"] == "body.file"
    assert listed.json() == []


async def test_an_upload_of_another_format_or_without_a_file_is_a_422(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        text = await upload(client, b"hello", "notes.txt")
        empty = await client.post("/api/v1/datasets", data={"symbol": "SPY"})
        bad_symbol = await upload(client, symbol="../etc")
    assert text.status_code == 422 and "notes.txt: unknown format" in text.json()["detail"]
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body.file"
    assert bad_symbol.status_code == 422
    assert bad_symbol.json()["errors"][0]["field"] == "body.symbol"


async def test_a_viewer_may_not_upload_and_the_refusal_is_audited(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        answer = await upload(client)
        listed = await client.get("/api/v1/datasets")
    assert answer.status_code == 403
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["detail"] == "the viewer role may not run jobs (needs operator)"
    assert answer.json()["action"] == "dataset.add"
    assert listed.json() == []
    assert await denials(api.deck) == [("denied.dataset.add", "viewer-user")]


async def test_a_backtest_answers_the_figures_of_the_cli_for_the_same_run(api: Api) -> None:
    body = {"strategy": "sma_cross", "dataset": "sim:SPY", "params": {"fast": 8, "slow": 40},
            "commission": 0.001, "seed": 4, "bars": 2_000}  # fmt: skip
    async with api.client(Role.VIEWER) as client:
        answer = await client.post("/api/v1/backtests", json=body)
    assert answer.status_code == 200, answer.text
    strategy = get_strategy("sma_cross")
    result = run_backtest(strategy, dataset_bars("sim:SPY", 4, 2_000), {"fast": 8, "slow": 40},
                          BacktestConfig(commission=0.001))  # fmt: skip
    expected = backtest_document(strategy, result)
    document = answer.json()
    assert document["strategy_version"] == strategy.version
    assert document["params"] == {"fast": 8, "slow": 40}
    assert document["metrics"]["trades"] == expected["metrics"]["trades"] > 0
    assert document["equity_final"] == pytest.approx(expected["equity_final"], rel=1e-12)
    assert document["trades"][0]["entry_time"] == expected["trades"][0]["entry_time"]


async def test_a_backtest_runs_on_an_uploaded_dataset_by_id(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        dataset = (await upload(client, bars_csv(400))).json()
        by_id = await client.post(
            "/api/v1/backtests", json={"strategy": "sma_cross", "dataset": dataset["id"]}
        )
        by_spec = await client.post("/api/v1/backtests", json={
            "strategy": "sma_cross", "dataset": f"catalog:{dataset['id']}"})  # fmt: skip
    assert by_id.status_code == 200, by_id.text
    assert by_id.json() == by_spec.json()
    assert by_id.json()["trades"][0]["entry_time"] >= dataset["first_bar"]


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"strategy": "nope"}, "body.strategy", "unknown strategy 'nope'"),
    ({"params": {"fast": 5000}}, "body.params", "fast: 5000 is outside [2, 200]"),
    ({"params": {"speed": 3}}, "body.params", "has no parameter 'speed'"),
    ({"bars": 10_000_000}, "body.bars", "less than or equal to 100000"),
    ({"commission": 2}, "body.commission", "less than 1"),
    ({"dataset": "/etc/passwd"}, "body.dataset", "the API reads no server file"),
    ({"dataset": "../quarterdeck.db"}, "body.dataset", "the API reads no server file"),
    ({"dataset": "0123456789abcdef"}, "body.dataset", "no dataset '0123456789abcdef'"),
    ({"dataset": "sim:"}, "body.dataset", "expected sim:SYMBOL"),
    ({"cash": "lots"}, "body.cash", "valid number"),
    ({"surprise": 1}, "body.surprise", "Extra inputs"),
])  # fmt: skip
async def test_a_bad_backtest_is_a_422_naming_the_field(
    api: Api, change: dict[str, object], field: str, words: str
) -> None:
    body = {"strategy": "sma_cross", "dataset": "sim:SPY", "bars": 500, **change}
    async with api.client(Role.VIEWER) as client:
        answer = await client.post("/api/v1/backtests", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["errors"][0]["field"] == field
    assert words in problem["detail"]


async def test_a_backtest_of_a_dataset_beyond_the_bound_is_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backtests, "MAX_BARS", 200)
    async with api.client(Role.OPERATOR) as client:
        dataset = (await upload(client, bars_csv(300))).json()
        answer = await client.post(
            "/api/v1/backtests", json={"strategy": "sma_cross", "dataset": dataset["id"]}
        )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "body.dataset"
    assert "has 300 bars, more than a synchronous backtest runs (200)" in answer.json()["detail"]


async def test_the_openapi_document_describes_the_research_routes(api: Api) -> None:
    async with api.client() as client:
        document = (await client.get("/api/v1/openapi.json")).json()
    paths = document["paths"]
    tags = {path: {t for op in paths[path].values() for t in op["tags"]} for path in paths}
    assert tags["/api/v1/strategies/{strategy_id}"] == {"strategies"}
    assert tags["/api/v1/datasets"] == {"datasets"}
    assert tags["/api/v1/backtests"] == {"backtests"}
    assert tags["/api/v1/jobs/{job_id}/files/{name}"] == {"jobs"}
    kinds = document["paths"]["/api/v1/jobs"]["post"]["requestBody"]["content"]
    assert "discriminator" in str(kinds)
    grid = document["components"]["schemas"]["OptimizeJob"]["properties"]["grid"]
    assert "START, STOP" in grid["description"]
