"""The account, orders, fills and risk over the API, and the operators' trading actions:
each one the Deck's command with the caller's role, refusals 403 and audited."""

from __future__ import annotations

import asyncio
from typing import Any

from core.access import Role
from core.audit import read_entries
from core.deck import Deck
from core.events import Fill, RiskState
from core.trading.account import account_document, account_fills, load_account
from core.trading.orders import OrderRequest, OrderStatus, OrderType, Side
from tests.console.api.conftest import Api

STRATEGY = "sma_cross"  # the one live strategy of the test settings


async def fills_seen(deck: Deck, count: int) -> list[Fill]:
    """Wait until the simulator's trading has made ``count`` fills (and journaled them)."""
    seen: list[Fill] = []
    with deck.bus.subscribe(Fill) as subscription:
        async with asyncio.timeout(120):
            while len(seen) < count:
                seen.append(await subscription.get())
    await deck.engine.flush()
    return seen


async def audited(deck: Deck, action: str) -> list[Any]:
    return await asyncio.to_thread(read_entries, deck.store, action)


def rest_limit_order(deck: Deck) -> int:
    """A buy well below the market: it rests at the broker until cancelled."""
    symbol = deck.feed.symbols[0]
    price = deck.engine.execution.last_prices[symbol]
    request = OrderRequest(STRATEGY, symbol, Side.BUY, 0.01, OrderType.LIMIT,
                           limit_price=round(price * 0.85, 2))  # fmt: skip
    order = deck.engine.execution.submit(request, deck.engine.portfolio.ts)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    return order.order_id


async def test_every_read_needs_credentials(api: Api) -> None:
    async with api.client() as client:
        for path in ("/portfolio", "/orders", "/fills", "/risk"):
            answer = await client.get(f"/api/v1{path}")
            assert answer.status_code == 401, path
            assert answer.headers["content-type"] == "application/problem+json"


async def test_portfolio_is_the_account_document_without_its_fills(api: Api) -> None:
    await fills_seen(api.deck, 1)
    async with api.client(Role.VIEWER) as client:
        answer = await client.get("/api/v1/portfolio")
    assert answer.status_code == 200
    body = answer.json()
    deck = api.deck
    row = deck.account.account if deck.account else None
    assert row is not None
    document = await asyncio.to_thread(
        lambda: account_document(
            load_account(deck.store, row), account_fills(deck.store, row.id), {STRATEGY}
        )
    )
    assert set(body) == set(document) - {"fills"}
    assert body["account_id"] == row.id
    assert body["starting_cash"] == document["starting_cash"]
    [strategy] = body["strategies"]
    assert strategy["id"] == STRATEGY and strategy["state"] == "running"
    assert {"realized_pnl", "unrealized_pnl", "fees", "total_pnl", "trades",
            "turnover"} <= set(strategy)  # fmt: skip


async def test_fills_page_newest_first_from_the_store(api: Api) -> None:
    await fills_seen(api.deck, 3)
    async with api.client(Role.VIEWER) as client:
        first = (await client.get("/api/v1/fills", params={"limit": 2})).json()
        ids = [f["id"] for f in first["fills"]]
        assert len(ids) == 2 and ids[0] > ids[1]
        assert first["next_before"] == ids[1]
        second = (await client.get("/api/v1/fills", params={"limit": 2,
                                                            "before": ids[1]})).json()  # fmt: skip
        assert second["fills"] and all(f["id"] < ids[1] for f in second["fills"])
        assert second["fills"][0]["strategy"] == STRATEGY
        nobody = (await client.get("/api/v1/fills", params={"strategy": "nobody"})).json()
        assert nobody == {"fills": [], "next_before": None}
        bad = await client.get("/api/v1/fills", params={"limit": 0})
        # found by the schemathesis run: past SQLite's INTEGER it was a 500
        huge = await client.get("/api/v1/fills", params={"before": 2**64})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "query.limit"
    assert huge.status_code == 422
    assert huge.json()["errors"][0]["field"] == "query.before"


async def test_orders_list_working_and_recent_with_filters(api: Api) -> None:
    await fills_seen(api.deck, 1)
    order_id = rest_limit_order(api.deck)
    await api.deck.engine.flush()
    async with api.client(Role.VIEWER) as client:
        orders = (await client.get("/api/v1/orders")).json()
        filled = (await client.get("/api/v1/orders", params={"status": "filled"})).json()
        other = (await client.get("/api/v1/orders", params={"symbol": "NOPE"})).json()
        bad = await client.get("/api/v1/orders", params={"status": "lost"})
    working = {o["id"]: o for o in orders["working"]}
    assert working[order_id]["type"] == "limit"
    recent = {o["id"]: o for o in orders["recent"]}
    assert recent[order_id]["status"] == "accepted"
    assert filled["working"] == [] and filled["recent"]
    assert all(o["status"] == "filled" for o in filled["recent"])
    assert other == {"working": [], "recent": []}
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.status"


async def test_risk_shows_each_limit_and_an_unset_one_as_null(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        body = (await client.get("/api/v1/risk")).json()
    assert body["state"] == "active" and body["halted"] is False and body["halt"] is None
    limits = {limit["name"]: limit for limit in body["limits"]}
    assert limits["daily loss"]["limit"] is None and limits["daily loss"]["unlimited"] is True
    assert limits["open orders"]["limit"] == api.deck.settings.risk_max_open_orders
    assert limits["open orders"]["unlimited"] is False


async def test_a_viewer_may_not_kill_and_the_refusal_is_audited(api: Api) -> None:
    async with api.client(Role.VIEWER) as client:
        answer = await client.post("/api/v1/risk/kill", json={"reason": "curious"})
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert "viewer role may not trade" in answer.json()["detail"]
    assert api.deck.engine.execution.risk.state is RiskState.ACTIVE
    [denied] = await audited(api.deck, "denied.risk.kill")
    assert denied.actor == "viewer-user"


async def test_the_kill_switch_halts_the_engine_and_stops_every_strategy(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        answer = await client.post("/api/v1/risk/kill", json={"reason": "drill"})
        risk = (await client.get("/api/v1/risk")).json()
        portfolio = (await client.get("/api/v1/portfolio")).json()
    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "halted" and body["halted"] is True
    assert body["halt"]["who"] == "operator-user" and body["halt"]["why"] == "drill"
    assert body["stopped_strategies"] == [STRATEGY]
    assert risk["halt"]["kind"] == "kill"
    assert api.deck.engine.execution.risk.state is RiskState.HALTED
    assert portfolio["risk_state"] == "halted"
    assert portfolio["strategies"][0]["state"] == "stopped"
    [entry] = await audited(api.deck, "risk.kill")
    assert entry.actor == "operator-user" and entry.detail["why"] == "drill"


async def test_lifting_a_halt_is_for_admins_only(api: Api) -> None:
    async with api.client(Role.OPERATOR) as operator, api.client(Role.ADMIN) as admin:
        await operator.post("/api/v1/risk/kill", json={"reason": "drill"})
        refused = await operator.post("/api/v1/risk/reset", json={"reason": "all clear"})
        assert refused.status_code == 403
        assert api.deck.engine.execution.risk.state is RiskState.HALTED
        lifted = await admin.post("/api/v1/risk/reset", json={"reason": "all clear"})
        started = await operator.post(f"/api/v1/strategies/{STRATEGY}/start",
                                      json={"reason": "resume"})  # fmt: skip
    assert [e.actor for e in await audited(api.deck, "denied.risk.reset")] == ["operator-user"]
    assert lifted.status_code == 200 and lifted.json()["state"] == "active"
    assert started.json() == {"strategy": STRATEGY, "state": "running", "changed": True}


async def test_a_strategy_stops_and_starts_on_an_operators_word(api: Api) -> None:
    path = f"/api/v1/strategies/{STRATEGY}"
    async with api.client(Role.OPERATOR) as client:
        stopped = await client.post(f"{path}/stop", json={"reason": "review"})
        again = await client.post(f"{path}/stop", json={"reason": "review"})
        assert api.deck.engine.stopped == {STRATEGY}
        started = await client.post(f"{path}/start", json={"reason": "reviewed"})
    assert stopped.json() == {"strategy": STRATEGY, "state": "stopped", "changed": True}
    assert again.json()["changed"] is False
    assert started.json()["changed"] is True and api.deck.engine.stopped == set()
    whys = [e.detail["why"] for e in await audited(api.deck, "strategy.")]
    assert whys == ["review", "reviewed"]


async def test_a_restart_runs_the_newest_code_and_says_which(api: Api) -> None:
    async with api.client(Role.OPERATOR) as client:
        answer = await client.post(f"/api/v1/strategies/{STRATEGY}/restart",
                                   json={"reason": "new build"})  # fmt: skip
    assert answer.status_code == 200
    body = answer.json()
    assert body["strategy"] == STRATEGY and body["new_version"] == body["old_version"]
    [entry] = await audited(api.deck, "strategy.restart")
    assert entry.actor == "operator-user"


async def test_strategy_actions_refuse_bad_input_and_unknown_or_halted_strategies(
    api: Api,
) -> None:
    async with api.client(Role.OPERATOR) as client:
        missing = await client.post(f"/api/v1/strategies/{STRATEGY}/stop", json={})
        blank = await client.post(f"/api/v1/strategies/{STRATEGY}/stop", json={"reason": "  "})
        unknown = await client.post("/api/v1/strategies/nope/stop", json={"reason": "x"})
        await client.post("/api/v1/risk/kill", json={"reason": "drill"})
        halted = await client.post(f"/api/v1/strategies/{STRATEGY}/start", json={"reason": "go"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.reason"
    assert blank.status_code == 422 and "say why" in blank.json()["detail"]
    assert unknown.status_code == 404 and "no live strategy 'nope'" in unknown.json()["detail"]
    assert halted.status_code == 409 and "halted" in halted.json()["detail"]


async def test_an_order_is_cancelled_by_an_operator_not_by_a_viewer(api: Api) -> None:
    await fills_seen(api.deck, 1)
    order_id = rest_limit_order(api.deck)
    path = f"/api/v1/orders/{order_id}/cancel"
    async with api.client(Role.VIEWER) as viewer, api.client(Role.OPERATOR) as operator:
        refused = await viewer.post(path, json={"reason": "mine"})
        assert refused.status_code == 403
        assert order_id in [o.order_id for o in api.deck.engine.broker.working()]
        cancelled = await operator.post(path, json={"reason": "fat finger"})
        gone = await operator.post(path, json={"reason": "again"})
        huge = await operator.post(f"/api/v1/orders/{2**64}/cancel", json={"reason": "x"})
    assert huge.status_code == 422 and huge.json()["errors"][0]["field"] == "path.order_id"
    assert cancelled.json() == {"order_id": order_id, "cancelled": True}
    assert order_id not in [o.order_id for o in api.deck.engine.broker.working()]
    assert gone.status_code == 409 and "not working" in gone.json()["detail"]
    assert [e.subject for e in await audited(api.deck, "denied.order.cancel")] == [
        f"order {order_id}"
    ]
