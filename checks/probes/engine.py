"""Trading engine probes: paper mode, configured risk limits, and a kill switch drill."""

from __future__ import annotations

import asyncio
import math

from pydantic import Field, field_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult
from checks.probes.registry import probe
from core.bus import Bus
from core.config import Settings
from core.events import Bar, Fill, RiskState, Side, Tick, Verdict
from core.market.history import simulated_bars
from core.research.strategies import get_strategy
from core.trading.engine import LiveEngine, StrategySpec
from core.trading.orders import OrderEvent, OrderRequest, OrderType
from core.trading.risk import RiskEvent
from core.wiring import risk_limits as configured_limits

PAPER = "paper"


@probe("engine.paper_mode")
async def paper_mode(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
    """The live engine trades on paper (no real orders) outside production."""
    environment = ctx.settings.environment
    evidence: dict[str, object] = {"engine_mode": ctx.engine_mode, "environment": environment}
    if ctx.engine_mode == PAPER:
        return ProbeResult(Verdict.PASS, "engine is in paper mode", evidence)
    reason = (
        f"engine is in {ctx.engine_mode!r} mode in the {environment!r} environment; "
        "it must be in paper mode"
    )
    return ProbeResult(Verdict.FAIL, reason, evidence)


RISK_LIMIT_NAMES = ("max_order_notional", "max_position_notional", "daily_loss_limit")


class RiskLimitsParams(ProbeParams):
    # Names of Settings.risk_<name> that must hold a finite limit.
    required: list[str] = Field(default_factory=lambda: list(RISK_LIMIT_NAMES), min_length=1)

    @field_validator("required")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        fields = Settings.model_fields
        known = sorted(n.removeprefix("risk_") for n in fields if n.startswith("risk_"))
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f"unknown risk limit(s) {unknown}; known: {', '.join(known)}")
        return names


@probe("engine.risk_limits", params=RiskLimitsParams)
async def risk_limits(ctx: ProbeContext, params: RiskLimitsParams) -> ProbeResult:
    """The engine's loss and exposure limits are configured (finite), not left unlimited."""
    limits = configured_limits(ctx.settings)  # with the defaults the settings leave to it
    values = {name: float(getattr(limits, name)) for name in params.required}
    unset = [name for name, value in values.items() if not math.isfinite(value)]
    # JSON has no infinity: an unlimited setting is shown as null.
    evidence: dict[str, object] = {
        "limits": {name: value if math.isfinite(value) else None for name, value in values.items()},
        "unset": unset,
    }
    if unset:
        settings = ", ".join(f"QD_RISK_{name.upper()}" for name in unset)
        reason = f"no limit set for {', '.join(unset)} ({settings})"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    shown = ", ".join(f"{name} {value:g}" for name, value in values.items())
    return ProbeResult(Verdict.PASS, f"limits set: {shown}", evidence)


DRILL_SYMBOL = "DRILL"
DRILL_STRATEGY = "sma_cross"


def _open_drill_position(engine: LiveEngine) -> Tick:
    """Feed the drill engine simulated bars until it holds a position; the last tick fed.

    Runs in a worker thread: the strategy's kernels may compile on their first use.
    """
    bars = simulated_bars(DRILL_SYMBOL, 11, 400, 3600.0, 60.0)
    last: Tick | None = None
    for i in range(len(bars["close"])):
        ts, price = float(bars["ts"][i]), float(bars["open"][i])
        last = Tick(DRILL_SYMBOL, ts, price, 1.0)
        engine.handle(last)
        if engine.portfolio.position(DRILL_SYMBOL).quantity:
            return last
        row = {key: float(bars[key][i]) for key in ("open", "high", "low", "close", "volume")}
        engine.handle(Bar(DRILL_SYMBOL, ts, **row))
    raise RuntimeError("the drill history never opened a position")


def _open_quantities(engine: LiveEngine) -> dict[str, float]:
    return {s: p.quantity for s, p in engine.portfolio.positions.items() if p.quantity}


@probe("engine.kill_switch")
async def kill_switch(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
    """The kill switch halts a throwaway engine, cancels its orders and flattens it."""
    bus = Bus()
    events = bus.subscribe(RiskEvent, OrderEvent, Fill, maxsize=10_000)
    spec = StrategySpec(get_strategy(DRILL_STRATEGY), {"fast": 3, "slow": 8}, (DRILL_SYMBOL,),
                        100_000.0, 0.5)  # fmt: skip
    engine = LiveEngine(bus, [spec], run_id="readiness-kill-switch-drill", quiet=True)
    last = await asyncio.to_thread(_open_drill_position, engine)
    # A resting order far from the market, which the kill switch must cancel.
    resting = OrderRequest(DRILL_STRATEGY, DRILL_SYMBOL, Side.BUY, 1.0, OrderType.LIMIT,
                           limit_price=last.price * 0.9)  # fmt: skip
    engine.execution.submit(resting, last.ts)
    before = {
        "positions": _open_quantities(engine),
        "open_orders": engine.broker.open_orders,
        "state": engine.execution.state.value,
    }
    await engine.kill("readiness probe", "kill switch drill")
    tick = Tick(DRILL_SYMBOL, last.ts + 60.0, last.price, 1.0)
    engine.handle(tick)
    engine.publish()
    after = {
        "positions": _open_quantities(engine),
        "open_orders": engine.broker.open_orders,
        "state": engine.execution.state.value,
    }
    seen = events.drain()
    kill_events = [e for e in seen if isinstance(e, RiskEvent) and e.kind == "kill"]
    cancelled = [e for e in seen if isinstance(e, OrderEvent) and e.kind == "cancelled"]
    killed_at = next((i for i, e in enumerate(seen) if e in kill_events), len(seen))
    flattening = [f for f in seen[killed_at:] if isinstance(f, Fill)]
    evidence: dict[str, object] = {
        "drill": f"{DRILL_STRATEGY} on simulated {DRILL_SYMBOL}, in memory (no journal, no store)",
        "before": before,
        "after": after,
        "kill_events": len(kill_events),
        "cancelled_orders": len(cancelled),
        "flattening_fills": [f"{f.side.value} {f.quantity:g} @ {f.price:g}" for f in flattening],
        "stopped_strategies": sorted(engine.stopped),
    }
    problems: list[str] = []
    if engine.execution.state is not RiskState.HALTED:
        problems.append(f"state is {after['state']}, not halted")
    if after["positions"]:
        problems.append(f"positions still open: {after['positions']}")
    if after["open_orders"]:
        problems.append(f"{after['open_orders']} order(s) still working")
    if not kill_events:
        problems.append("no kill event was recorded for the audit trail")
    if engine.stopped != {DRILL_STRATEGY}:
        problems.append(f"strategies still running: {DRILL_STRATEGY}")
    if not before["positions"] or not before["open_orders"]:
        problems.append("the drill did not reach a position and a working order to kill")
    if problems:
        return ProbeResult(Verdict.FAIL, "kill switch drill: " + "; ".join(problems), evidence)
    reason = (
        f"kill switch halted the drill engine, cancelled {len(cancelled)} order(s) and "
        f"flattened {before['positions']} at the next tick"
    )
    return ProbeResult(Verdict.PASS, reason, evidence)
