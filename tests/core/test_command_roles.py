"""Roles enforced by the Deck's commands themselves, whatever front end calls them.

For every role and every trading and job command, on a real started Deck (SQLite in
the test's folder, the simulator running): a role that may, does, and its audit
entry carries who and from where; a role that may not is refused with a
``PermissionDenied`` that names the user, the role and the capability, nothing
changes, and the refusal is itself audited (``denied.<action>``) and logged.

Who may do what is written out here, not read from ``core.access.GRANTS``, so a
change to the table has to change this contract too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import pytest

from core.access import Capability, PermissionDenied, Principal, Role
from core.audit import AuditEntry, read_entries, verify_trail
from core.config import Settings
from core.deck import Deck
from core.events import JobPriority, JobState, RiskState, Side
from core.trading.orders import OrderRequest, OrderStatus, OrderType

ROOT = Principal("root", Role.ADMIN)  # sets the scene; never the actor under test
SOURCE = "ssh 10.0.0.5:51234"
LONG = {"strategy": "rsi_reversion", "dataset": "sim:SPY", "bars": 20_000,
        "grid": {"window": [5, 60, 1], "lower": [10, 45, 1], "upper": [55, 90, 1]}}  # fmt: skip
SHORT = {"strategy": "sma_cross", "dataset": "sim:SPY", "bars": 300,
         "grid": {"fast": [2, 20, 6], "slow": [25, 85, 20]}}  # fmt: skip
TRADERS = frozenset({Role.OPERATOR, Role.ADMIN})


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


# --- the scenes: what each command acts on, and how to see whether it changed ---------


async def nothing(deck: Deck) -> Any:
    return None


async def halted(deck: Deck) -> Any:
    await deck.kill(ROOT, "scene: halted")
    await until(lambda: deck.engine.execution.state is RiskState.HALTED)


async def strategy_stopped(deck: Deck) -> Any:
    assert await deck.stop_strategy(ROOT, "scene: stopped", "sma_cross")


async def working_order(deck: Deck) -> int:
    """A buy limit 15% below the market (inside the 20% band): it rests until cancelled."""
    prices = deck.engine.execution.last_prices
    await until(lambda: "BTCUSD" in prices)
    request = OrderRequest("sma_cross", "BTCUSD", Side.BUY, 1.0, OrderType.LIMIT,
                           limit_price=round(prices["BTCUSD"] * 0.85, 2))  # fmt: skip
    order = deck.engine.execution.submit(request, 0.0)
    assert order.status is OrderStatus.ACCEPTED
    return order.order_id


async def running_job(deck: Deck) -> int:
    job_id = await deck.submit_job(ROOT, "optimize", LONG)
    await until(lambda: deck.jobs.jobs[job_id].state is JobState.RUNNING)
    return job_id


async def finished_optimization(deck: Deck) -> int:
    job_id = await deck.submit_job(ROOT, "optimize", SHORT)
    await asyncio.wait_for(deck.jobs.finished(job_id), 60)
    return job_id


async def paused_job(deck: Deck) -> int:
    job_id = await running_job(deck)
    assert await deck.pause_job(ROOT, job_id)
    await until(lambda: deck.jobs.jobs[job_id].state is JobState.PAUSED)
    return job_id


def risk(deck: Deck, _: Any) -> Hashable:
    return deck.engine.execution.state


def stopped(deck: Deck, _: Any) -> Hashable:
    return frozenset(deck.engine.stopped)


def working(deck: Deck, _: Any) -> Hashable:
    return tuple(o.order_id for o in deck.engine.broker.working())


def job_ids(deck: Deck, _: Any) -> Hashable:
    return frozenset(deck.jobs.jobs)


def job_state(deck: Deck, job_id: int) -> Hashable:
    return deck.jobs.jobs[job_id].state


def job_priority(deck: Deck, job_id: int) -> Hashable:
    return deck.jobs.jobs[job_id].priority


@dataclass(frozen=True)
class Case:
    action: str  # the audit action of the command
    capability: Capability
    may: frozenset[Role]
    scene: Callable[[Deck], Awaitable[Any]]
    act: Callable[[Deck, Principal, Any], Awaitable[Any]]
    observe: Callable[[Deck, Any], Hashable]

    def __str__(self) -> str:
        return self.action


CASES = [
    Case("risk.kill", Capability.TRADE, TRADERS, nothing,
         lambda d, a, _: d.kill(a, "drill"), risk),
    Case("risk.reset", Capability.RESET_RISK, frozenset({Role.ADMIN}), halted,
         lambda d, a, _: d.reset_risk(a, "drill over"), risk),
    Case("strategy.stop", Capability.TRADE, TRADERS, nothing,
         lambda d, a, _: d.stop_strategy(a, "misbehaving", "sma_cross"), stopped),
    Case("strategy.start", Capability.TRADE, TRADERS, strategy_stopped,
         lambda d, a, _: d.start_strategy(a, "fixed", "sma_cross"), stopped),
    Case("order.cancel", Capability.TRADE, TRADERS, working_order,
         lambda d, a, order_id: d.cancel_order(a, "fat finger", order_id), working),
    Case("job.submit", Capability.RUN_JOBS, TRADERS, nothing,
         lambda d, a, _: d.submit_job(a, "optimize", LONG), job_ids),
    Case("job.submit", Capability.RUN_JOBS, TRADERS, nothing,
         lambda d, a, _: d.submit_export(a, "sma_cross", "sim:BTCUSD", format="pine"), job_ids),
    Case("job.submit", Capability.RUN_JOBS, TRADERS, finished_optimization,
         lambda d, a, job_id: d.submit_export_of_best(a, job_id, format="pine"), job_ids),
    Case("job.rerun", Capability.RUN_JOBS, TRADERS, running_job,
         lambda d, a, job_id: d.rerun_job(a, job_id), job_ids),
    Case("job.cancel", Capability.RUN_JOBS, TRADERS, running_job,
         lambda d, a, job_id: d.cancel_job(a, job_id, "wrong grid"), job_state),
    Case("job.pause", Capability.RUN_JOBS, TRADERS, running_job,
         lambda d, a, job_id: d.pause_job(a, job_id), job_state),
    Case("job.resume", Capability.RUN_JOBS, TRADERS, paused_job,
         lambda d, a, job_id: d.resume_job(a, job_id), job_state),
    Case("job.priority", Capability.RUN_JOBS, TRADERS, running_job,
         lambda d, a, job_id: d.set_job_priority(a, job_id, JobPriority.HIGH), job_priority),
]  # fmt: skip


async def entries(deck: Deck) -> list[AuditEntry]:
    return await asyncio.to_thread(read_entries, deck.store)


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("case", CASES, ids=str)
async def test_each_command_runs_for_the_roles_that_may_and_is_refused_and_audited_otherwise(
    settings: Settings, case: Case, role: Role, caplog: pytest.LogCaptureFixture
) -> None:
    actor = Principal(f"{role.value}-user", role, source=SOURCE)
    deck = Deck(settings)
    await deck.start()
    try:
        target = await case.scene(deck)
        before = case.observe(deck, target)
        already = len(await entries(deck))
        if role in case.may:
            await case.act(deck, actor, target)
            await until(lambda: case.observe(deck, target) != before)
            new = (await entries(deck))[already:]
            assert [(e.actor, e.action, e.detail["source"]) for e in new] == [
                (actor.name, case.action, SOURCE)
            ]
        else:
            with (
                caplog.at_level(logging.WARNING, logger="core.guard"),
                pytest.raises(PermissionDenied) as refused,
            ):
                await case.act(deck, actor, target)
            assert case.observe(deck, target) == before  # nothing changed
            error = refused.value
            assert (error.principal, error.capability, error.action) == (
                actor,
                case.capability,
                case.action,
            )
            message = str(error)
            assert message.startswith(f"{actor.name}: the {role.value} role may not ")
            assert case.capability.value.replace("_", " ") in message
            (denied,) = (await entries(deck))[already:]
            assert (denied.actor, denied.action) == (actor.name, f"denied.{case.action}")
            assert denied.detail == {"role": role.value, "capability": case.capability.value,
                                     "reason": error.reason, "source": SOURCE}  # fmt: skip
            assert any(actor.name in r.getMessage() and case.action in r.getMessage()
                       for r in caplog.records)  # fmt: skip
        assert await asyncio.to_thread(verify_trail, deck.store) == len(await entries(deck))
    finally:
        await deck.stop()


async def test_a_command_refused_to_a_viewer_leaves_no_trace_but_its_denial(
    settings: Settings,
) -> None:
    """The issue's three examples in one session: cancel a job, reset risk, kill."""
    viewer = Principal("vic", Role.VIEWER, source=SOURCE)
    deck = Deck(settings)
    await deck.start()
    try:
        job_id = await running_job(deck)
        for command in (
            lambda: deck.cancel_job(viewer, job_id, "mine now"),
            lambda: deck.reset_risk(viewer, "let me trade"),
            lambda: deck.kill(viewer, "oops"),
        ):
            with pytest.raises(PermissionDenied):
                await command()
        assert deck.jobs.jobs[job_id].state is JobState.RUNNING
        assert deck.engine.execution.state is RiskState.ACTIVE
        by_viewer = [(e.action, e.subject) for e in await entries(deck) if e.actor == "vic"]
        assert by_viewer == [("denied.job.cancel", f"job {job_id}"),
                             ("denied.risk.reset", deck.run_id),
                             ("denied.risk.kill", deck.run_id)]  # fmt: skip
    finally:
        await deck.stop()
