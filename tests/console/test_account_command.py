"""`quarterdeck account [--json] | list | reset --why`: the account as the store holds it,
and a reset that only an admin may make, audited, with the old account kept."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from console import formatting as fmt
from console.cli import main
from core.audit import read_entries
from core.config import Settings
from core.deck import Deck
from core.store import Store


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def trade(settings: Settings, fills: int = 3) -> Deck:
    deck = Deck(settings)
    await deck.start()
    for _ in range(400):
        await asyncio.sleep(0.05)
        if deck.engine.portfolio.fills >= fills:
            break
    await deck.stop()
    return deck


def test_no_account_yet_says_when_one_opens(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "account", "--json")
    assert code == 1 and "no account 'paper' yet" in err
    assert run(capsys, "account", "list")[1].startswith("no accounts yet")


async def test_account_json_adds_up_fill_for_fill(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    deck = await trade(settings)
    code, out, _ = run(capsys, "account", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["account_id"] == deck.account.account.id  # type: ignore[union-attr]
    assert document["starting_cash"] == settings.starting_cash
    fills = document["fills"]
    assert len(fills) == deck.engine.portfolio.fills >= 3
    assert set(fills[0]) >= {"id", "ts", "symbol", "side", "quantity", "price", "commission",
                             "strategy", "run_id"}  # fmt: skip
    assert {f["run_id"] for f in fills} == {deck.run_id}
    assert [f["ts"] for f in fills] == sorted(f["ts"] for f in fills)
    cash = document["starting_cash"]
    for f in fills:
        cash -= (1 if f["side"] == "buy" else -1) * f["quantity"] * f["price"] + f["commission"]
    assert document["cash"] == cash == deck.engine.portfolio.cash
    assert document["equity"] == pytest.approx(deck.engine.portfolio.equity, rel=1e-12)
    for position in document["positions"]:
        assert set(position) == {"symbol", "quantity", "average_price", "strategy"}
    # one definition of PnL, and the strategies add up to the account, to the cent
    assert document["fees"] == document["commissions"] + document["slippage"]
    total = document["realized_pnl"] + document["unrealized_pnl"] - document["fees"]
    assert document["total_pnl"] == pytest.approx(total, abs=1e-9)
    assert abs(document["equity"] - document["starting_cash"] - document["total_pnl"]) < 0.005
    (strategy,) = document["strategies"]
    assert strategy["id"] == "sma_cross" and strategy["state"] == "running"
    assert set(strategy) >= {"id", "state", "realized_pnl", "unrealized_pnl", "fees",
                             "total_pnl", "trades", "turnover"}  # fmt: skip
    assert abs(strategy["total_pnl"] - document["total_pnl"]) < 0.005
    assert strategy["turnover"] == pytest.approx(sum(f["quantity"] * f["price"] for f in fills))
    code, out, _ = run(capsys, "account")
    assert code == 0 and f"fills: {len(fills)}" in out and "starting cash" in out
    for f in fills:  # fills happen on the tick, as the decimal it is (no 1.07998000002)
        places = 5 if f["symbol"] == "EURUSD" else 2
        assert float(f"{f['price']:.{places}f}") == f["price"]
        shown = fmt.price(f["price"], deck.tick_size(f["symbol"]))
        assert f"{f['symbol']:<10} @ {shown}  fee" in out
        assert len(shown.split(".")[1]) == places


async def test_only_an_admin_resets_and_the_old_account_stays_readable(
    settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deck = await trade(settings, fills=1)
    old_id = deck.account.account.id  # type: ignore[union-attr]
    monkeypatch.setenv("QD_CONSOLE_ROLE", "operator")
    code, _, err = run(capsys, "account", "reset", "--why", "try", "--as", "olga")
    assert code == 2 and "reset_account" in err.replace(" ", "_")
    monkeypatch.setenv("QD_CONSOLE_ROLE", "admin")
    code, _, err = run(capsys, "account", "reset", "--why", "  ")
    assert code == 2 and "--why" in err
    code, out, _ = run(capsys, "account", "reset", "--why", "new quarter", "--as", "ada")
    assert code == 0 and f"account {old_id} archived" in out

    listed = json.loads(run(capsys, "account", "list", "--json")[1])
    assert [a["archived_by"] for a in listed] == [None, "ada"]
    assert listed[1]["account_id"] == old_id and listed[1]["archive_reason"] == "new quarter"
    fresh = json.loads(run(capsys, "account", "--json")[1])
    assert fresh["account_id"] != old_id and fresh["fills"] == []
    archived = json.loads(run(capsys, "account", "--json", "--id", old_id)[1])
    assert len(archived["fills"]) == deck.engine.portfolio.fills

    store = Store(settings.resolved_database_url)
    actions = [(e.actor, e.action) for e in read_entries(store, "")]
    store.dispose()
    assert ("olga", "denied.account.reset") in actions and ("ada", "account.reset") in actions
