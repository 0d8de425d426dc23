"""Trading engine probes: paper mode, configured risk limits, and a kill switch drill."""

from __future__ import annotations

import asyncio
import math

from pydantic import Field, field_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from checks.probes.target_engine import API, TargetEngine
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


@probe("engine.paper_mode", scopes=(Scope.TARGET, Scope.QUARTERDECK), needs=("base_url", "api_key"))
async def paper_mode(ctx: ProbeContext, params: ProbeParams) -> ProbeResult:
    """The engine trades on paper (no real orders): the target's, or Quarterdeck's own.

    The target's mode is what its API's ``GET /api/v1/risk`` says."""
    if ctx.scope is Scope.QUARTERDECK:
        return _mode_verdict(ctx.engine_mode, ctx.settings.environment, {})

    async def body(http: ProbeClient) -> ProbeResult:
        risk = await TargetEngine(http).read("/risk")
        mode = risk.get("mode")
        if not isinstance(mode, str) or not mode:
            raise OutOfReach(f"GET {API}/risk does not say the engine's mode")
        return _mode_verdict(mode, ctx.target.environment, {"exchanges": http.exchanges})

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)


def _mode_verdict(mode: str, environment: str, evidence: dict[str, object]) -> ProbeResult:
    evidence = {"engine_mode": mode, "environment": environment, **evidence}
    if mode == PAPER:
        return ProbeResult(Verdict.PASS, "engine is in paper mode", evidence)
    reason = (
        f"engine is in {mode!r} mode in the {environment!r} environment; it must be in paper mode"
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


@probe(
    "engine.risk_limits",
    scopes=(Scope.TARGET, Scope.QUARTERDECK),
    needs=("base_url", "api_key"),
    params=RiskLimitsParams,
)
async def risk_limits(ctx: ProbeContext, params: RiskLimitsParams) -> ProbeResult:
    """The engine's loss and exposure limits are set (finite): the target's, or Quarterdeck's.

    The target's are those its API's ``GET /api/v1/risk`` lists."""
    if ctx.scope is Scope.QUARTERDECK:
        limits = configured_limits(ctx.settings)  # with the defaults the settings leave to it
        values = {name: float(getattr(limits, name)) for name in params.required}
        return _limits_verdict(values, {})

    async def body(http: ProbeClient) -> ProbeResult:
        risk = await TargetEngine(http).read("/risk")
        listed = {str(limit.get("setting")): limit for limit in risk.get("limits", [])
                  if isinstance(limit, dict)}  # fmt: skip
        absent = [name for name in params.required if name not in listed]
        if absent:
            raise OutOfReach(f"GET {API}/risk does not list the limit(s) {', '.join(absent)}")
        values = {name: math.inf if listed[name].get("limit") is None
                  else float(listed[name]["limit"]) for name in params.required}  # fmt: skip
        return _limits_verdict(values, {"exchanges": http.exchanges})

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)


def _limits_verdict(values: dict[str, float], evidence: dict[str, object]) -> ProbeResult:
    unset = [name for name, value in values.items() if not math.isfinite(value)]
    # JSON has no infinity: an unlimited setting is shown as null.
    evidence = {
        "limits": {name: value if math.isfinite(value) else None for name, value in values.items()},
        "unset": unset,
        **evidence,
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


class KillSwitchParams(ProbeParams):
    #: Pull the target's kill switch and lift it again (admin key): only for a target
    #: that is not trading yet. Without it the target's switch is read, not drilled.
    drill: bool = False
    #: How long the target may take to flatten and cancel after the kill.
    flatten_seconds: float = Field(default=10.0, gt=0, le=120)


@probe(
    "engine.kill_switch",
    scopes=(Scope.TARGET, Scope.QUARTERDECK),
    needs=("base_url", "api_key"),
    params=KillSwitchParams,
)
async def kill_switch(ctx: ProbeContext, params: KillSwitchParams) -> ProbeResult:
    """The kill switch halts the engine, cancels its orders and flattens it.

    The target's is drilled through its API when ``drill`` is set (and only read, a WARN,
    when not); Quarterdeck's on a throwaway engine in memory."""
    if ctx.scope is Scope.QUARTERDECK:
        return await _throwaway_drill()

    async def body(http: ProbeClient) -> ProbeResult:
        return await _target_drill(TargetEngine(http), params)

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)


async def _target_drill(engine: TargetEngine, params: KillSwitchParams) -> ProbeResult:
    before = await engine.read("/risk")
    evidence: dict[str, object] = {"state_before": before.get("state"), "drill": params.drill,
                                   "exchanges": engine.http.exchanges}  # fmt: skip
    if before.get("halted"):
        halt = before.get("halt") or {}
        reason = (f"the target is already halted ({halt.get('who', '?')}: {halt.get('why', '?')}); "
                  "not drilled")  # fmt: skip
        return ProbeResult(Verdict.FAIL, reason, evidence)
    if not params.drill:
        reason = ("the target's kill switch is armed (state "
                  f"{before.get('state')}) but was not drilled: set drill = true on a target "
                  "that is not trading yet")  # fmt: skip
        return ProbeResult(Verdict.WARN, reason, evidence)
    killed = await engine.act("/risk/kill", "readiness drill of the kill switch")
    positions, working = await engine.flat_within(params.flatten_seconds)
    evidence.update({"state_after_kill": killed.get("state"), "open_positions": positions,
                     "working_orders": working,
                     "stopped_strategies": killed.get("stopped_strategies", [])})  # fmt: skip
    problems = []
    if not killed.get("halted"):
        problems.append(f"state is {killed.get('state')}, not halted")
    if positions:
        problems.append(f"positions still open after {params.flatten_seconds:g} s: {positions}")
    if working:
        problems.append(f"{working} order(s) still working")
    try:
        lifted = await engine.act("/risk/reset", "readiness drill of the kill switch is over")
    except OutOfReach as exc:
        problems.append(f"the target is left HALTED, the reset was refused: {exc}")
    else:
        evidence["state_after_reset"] = lifted.get("state")
    if problems:
        return ProbeResult(Verdict.FAIL, "kill switch drill: " + "; ".join(problems), evidence)
    stopped = ", ".join(killed.get("stopped_strategies", [])) or "none"
    reason = ("the target's kill switch halted it, cancelled and flattened everything, and "
              f"the halt was lifted; stopped until started: {stopped}")  # fmt: skip
    return ProbeResult(Verdict.PASS, reason, evidence)


async def _throwaway_drill() -> ProbeResult:
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
