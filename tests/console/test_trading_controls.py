"""Pilot tests of the trading screen's controls on a real started Deck: stop and start a
strategy, cancel a working order, and what a viewer sees instead."""

from __future__ import annotations

import getpass
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from checks import ReadinessService
from console.app import QuarterdeckApp
from console.screens.reason import ReasonScreen
from console.widgets.strategies_table import short_version
from core.access import PermissionDenied, Principal, Role
from core.config import LiveStrategy, Settings
from core.deck import Deck
from core.events import RiskState, Side
from core.trading.orders import OrderRequest, OrderStatus, OrderType
from tests.console.pilot import answer, make_app, wait_until
from tests.core.test_live_user_strategies import EXITS, HOLDER, folder  # noqa: F401
from tests.strategy_files import write_strategy as write


def audited(settings: Settings) -> list[tuple[str, str, str]]:
    """The trading entries of the audit trail (the readiness runner adds its own, and the
    strategy library its loads)."""
    database = sqlite3.connect(settings.data_dir / "quarterdeck.db")
    rows = database.execute("SELECT actor, action, subject FROM audit ORDER BY seq").fetchall()
    loads = ("strategy.load", "strategy.load_failed", "strategy.unload")
    return [row for row in rows
            if row[1].startswith(("strategy.", "order.")) and row[1] not in loads]  # fmt: skip


def rest_an_order(deck: Deck) -> int:
    """A buy limit 10% under the market: it rests (the engine publishes it with its
    next batch)."""
    symbol, last = next(iter(deck.engine.execution.last_prices.items()))
    limit = round(last * 0.9, 2)
    request = OrderRequest("desk", symbol, Side.BUY, 1.0, OrderType.LIMIT, limit_price=limit)
    order = deck.engine.execution.submit(request, deck.engine.portfolio.ts)
    assert order.status is OrderStatus.ACCEPTED, order.reason
    return order.order_id


async def test_stopping_and_starting_a_strategy_asks_why_and_is_audited(
    settings: Settings,
) -> None:
    app, deck = make_app(settings)
    me = getpass.getuser()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running)
        table = app.screen.query_one("#strategies", DataTable)
        await pilot.press("s")
        await pilot.press("escape")  # no reason, no stop
        assert deck.engine.stopped == set()
        await pilot.press("s")
        await answer(pilot, "misbehaving")
        await wait_until(pilot, lambda: deck.engine.stopped == {"sma_cross"})
        await wait_until(pilot, lambda: "stopped" in str(table.get_cell("sma_cross", "state")))
        fills = deck.engine.ledgers["sma_cross"].fills
        await pilot.pause(0.5)  # bars keep closing: a stopped strategy places nothing
        assert deck.engine.ledgers["sma_cross"].fills == fills
        await pilot.press("g")
        await answer(pilot, "fixed")
        await wait_until(pilot, lambda: deck.engine.stopped == set())
        await wait_until(pilot, lambda: "running" in str(table.get_cell("sma_cross", "state")))
        await pilot.press("q")
    assert audited(settings) == [
        (me, "strategy.stop", "sma_cross"),
        (me, "strategy.start", "sma_cross"),
    ]


async def test_restart_asks_why_runs_the_newest_code_and_shows_its_version(
    settings: Settings,
    folder: Path,  # noqa: F811
) -> None:
    write(folder, "holder.py", HOLDER)
    app, deck = make_app(settings.model_copy(update={"strategies": [LiveStrategy(id="holder")]}))
    me = getpass.getuser()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running)
        table = app.screen.query_one("#strategies", DataTable)
        first = deck.engine.specs_by_id["holder"].strategy.version
        assert str(table.get_cell("holder", "version")) == short_version(first)
        titles = {c.title for c in app.screen.palette_commands()}
        assert "Restart strategy holder" in titles
        write(folder, "holder.py", EXITS)
        await pilot.press("r")
        await answer(pilot, "get out")
        await wait_until(pilot, lambda: deck.engine.specs_by_id["holder"].strategy.version != first)
        new = deck.engine.specs_by_id["holder"].strategy.version
        await wait_until(
            pilot, lambda: str(table.get_cell("holder", "version")) == short_version(new)
        )
        await wait_until(pilot, lambda: any("restarted: version" in n.message
                                            for n in app._notifications))  # fmt: skip
        await pilot.press("q")
    assert audited(settings) == [(me, "strategy.restart", "holder")]


async def test_cancel_order_asks_why_then_cancels_the_working_order(settings: Settings) -> None:
    app, deck = make_app(settings)
    me = getpass.getuser()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running and deck.engine.execution.last_prices)
        order_id = rest_an_order(deck)
        orders = app.screen.query_one("#orders", DataTable)
        await wait_until(pilot, lambda: orders.row_count == 1)
        assert str(orders.get_cell(str(order_id), "strategy")) == "desk"
        titles = {c.title for c in app.screen.palette_commands()}
        assert any(t.startswith(f"Cancel order {order_id} (buy 1 ") for t in titles)
        await pilot.press("x")
        await pilot.press("escape")  # the dialog cancelled: the order stays
        assert [o.order_id for o in deck.engine.broker.working()] == [order_id]
        await pilot.press("x")
        await answer(pilot, "stale")
        await wait_until(pilot, lambda: deck.engine.broker.working() == [])
        await wait_until(pilot, lambda: orders.row_count == 0)
        await pilot.press("q")
    assert audited(settings) == [(me, "order.cancel", f"order {order_id}")]


async def test_a_viewer_sees_trading_controls_disabled_and_pressing_says_why(
    settings: Settings,
) -> None:
    deck = Deck(settings)
    deck.add_service(ReadinessService(deck))
    app = QuarterdeckApp(deck, user=Principal("vic", Role.VIEWER))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running and deck.engine.execution.last_prices)
        order_id = rest_an_order(deck)
        orders = app.screen.query_one("#orders", DataTable)
        await wait_until(pilot, lambda: orders.row_count == 1)
        reason = "the viewer role may not trade (needs operator)"
        for key, what in (("k", "Kill switch"), ("x", "Cancel order"), ("s", "Stop strategy")):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert not isinstance(app.screen, ReasonScreen)  # nothing asked, nothing done
            newest = list(app._notifications)[-1]
            assert newest.message == f"{what}: {reason}."
        assert deck.engine.execution.state is RiskState.ACTIVE
        assert [o.order_id for o in deck.engine.broker.working()] == [order_id]
        assert deck.engine.stopped == set()
        refused = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert refused["Stop strategy sma_cross"] == f"disabled: {reason}"
        for action in ("kill", "cancel_order", "stop_strategy", "start_strategy",
                       "restart_strategy", "reset_risk"):  # fmt: skip
            assert app.screen.check_action(action, ()) is None  # None: shown disabled
        await pilot.press("q")


async def test_an_admin_resets_the_account_from_the_palette_once_halted_and_flat(
    settings: Settings,
) -> None:
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running and deck.account is not None)
        old_id = deck.account.account.id  # type: ignore[union-attr]
        app.screen.action_reset_account()  # the palette's "Reset the paper account…"
        await answer(pilot, "new quarter")
        await pilot.pause(0.2)
        assert deck.account.account.id == old_id  # type: ignore[union-attr]  # not halted
        await pilot.press("k")
        await answer(pilot, "before the reset")
        engine = deck.engine

        def halted_and_flat() -> bool:
            flat = not any(p.quantity for p in engine.portfolio.positions.values())
            return flat and engine.execution.risk.state is RiskState.HALTED

        await wait_until(pilot, halted_and_flat)
        app.screen.action_reset_account()
        await answer(pilot, "new quarter")
        await wait_until(pilot, lambda: deck.account.account.id != old_id)  # type: ignore[union-attr]
        assert deck.engine.execution.risk.state is RiskState.ACTIVE
        await wait_until(pilot, lambda: deck.engine.portfolio.fills > 0, timeout=30)
        await pilot.press("q")
    database = sqlite3.connect(settings.data_dir / "quarterdeck.db")
    new_id = deck.account.account.id  # type: ignore[union-attr]
    rows = database.execute("SELECT DISTINCT account_id FROM fills WHERE run_id = ?",
                            (deck.run_id,)).fetchall()  # fmt: skip
    assert {row[0] for row in rows} == {old_id, new_id}
    ids = [row[0] for row in database.execute(
        "SELECT fill_id FROM fills WHERE account_id = ? ORDER BY id", (new_id,))]  # fmt: skip
    assert ids == list(range(1, len(ids) + 1))  # the new account counts from 1
    actions = [row[0] for row in database.execute("SELECT action FROM audit")]
    assert "account.reset" in actions


async def test_an_operator_may_not_reset_the_account(settings: Settings) -> None:
    deck = Deck(settings)
    await deck.start()
    try:
        with pytest.raises(PermissionDenied):
            await deck.reset_account(Principal("olga", Role.OPERATOR), "try")
    finally:
        await deck.stop()
    database = sqlite3.connect(settings.data_dir / "quarterdeck.db")
    assert ("olga", "denied.account.reset") in database.execute(
        "SELECT actor, action FROM audit").fetchall()  # fmt: skip


async def test_the_kill_switch_stops_every_strategy_and_a_banner_says_who_on_every_screen(
    settings: Settings,
) -> None:
    app, deck = make_app(settings)
    me = getpass.getuser()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("k")
        await answer(pilot, "desk drill")
        await wait_until(pilot, lambda: deck.engine.execution.risk.state is RiskState.HALTED)
        table = app.screen.query_one("#strategies", DataTable)
        await wait_until(pilot, lambda: "stopped" in str(table.get_cell("sma_cross", "state")))
        assert str(table.get_cell("sma_cross", "state")) == f"■ stopped · {me}"
        assert str(table.get_cell("sma_cross", "why")) == "kill switch: desk drill"
        for key in ("4", "1", "5", "3"):
            await pilot.press(key)
            await pilot.pause(0.3)
            banner = app.screen.query_one("#halt-banner", Static)
            await wait_until(pilot, lambda banner=banner: banner.display)
            said = str(banner.render())
            assert f"HALTED by {me}" in said and "desk drill" in said
        await pilot.press("4")
        await pilot.press("g")  # nothing starts while halted, and nothing is asked
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ReasonScreen)
        assert deck.engine.stopped == {"sma_cross"}
        await pilot.press("q")


async def test_enter_on_a_strategy_opens_its_drill_down_with_figures_that_add_up(
    settings: Settings,
) -> None:
    from console.screens.strategy import StrategyScreen

    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running and deck.engine.portfolio.fills >= 2)
        table = app.screen.query_one("#strategies", DataTable)
        table.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StrategyScreen))
        figures = app.screen.query_one("#strategy-figures", Static)
        await wait_until(pilot, lambda: "Total PnL" in str(figures.render()))
        shown = str(figures.render())
        assert "Fees" in shown and "round trips" in shown and "Turnover" in shown
        report = await deck.strategy_report("sma_cross")
        assert report.figures.ledger.fills >= 2
        assert abs(report.gross_pnl - report.fees - report.total_pnl) < 0.005
        assert "Newest fills" in str(app.screen.query_one("#strategy-recent", Static).render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, StrategyScreen))
        await pilot.press("q")


async def test_reset_risk_says_what_it_does_in_each_state(settings: Settings) -> None:
    """While ACTIVE a reset only restarts the day's loss and the drawdown's peak: the dialog
    and the notice say that, not "ACTIVE again"; from HALTED they name the move."""
    app, deck = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: deck.running)
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonScreen))
        assert "Trading is ACTIVE. Restart the day's loss" in str(
            app.screen.query_one("#reason-question", Static).render()
        )
        await answer(pilot, "new session")
        notices = lambda: [str(n.message) for n in app._notifications]  # noqa: E731
        await wait_until(pilot, lambda: any("still ACTIVE" in m for m in notices()))
        assert not any("ACTIVE again" in m for m in notices())

        await deck.kill(Principal("olga", Role.OPERATOR), "drill")
        await pilot.press("R")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonScreen))
        assert "from HALTED to ACTIVE" in str(
            app.screen.query_one("#reason-question", Static).render()
        )
        await answer(pilot, "all clear")
        await wait_until(pilot, lambda: any("HALTED -> ACTIVE" in m for m in notices()))
        assert deck.engine.execution.risk.state is RiskState.ACTIVE
        await pilot.press("q")
