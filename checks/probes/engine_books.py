"""The target engine's books and library, through its control API: the portfolio adds
up from its own fills, and every strategy loads.

The reconciliation recomputes what a reader would from the fills alone (cash, positions,
commissions) and checks the account's own identities (equity is cash plus marked
positions; total PnL is equity less the start, and realized plus unrealized less fees;
the strategies' PnL sums to the account's). A figure that does not add up is named with
both sides.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from typing import Any

from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from checks.probes.target_engine import API, TargetEngine
from core.events import Verdict

PAGE = 1000


class ReconcileParams(ProbeParams):
    #: Money figures may differ by this much (rounding in the documents).
    tolerance: float = Field(default=0.01, ge=0)
    #: Fills read at most (pages of 1000); an account with more is judged on none (ERROR).
    max_fills: int = Field(default=100_000, ge=1)
    #: Reads of the portfolio and fills, a quarter second apart, while the fills list
    #: fewer than the portfolio counts.
    attempts: int = Field(default=12, ge=1, le=100)


async def _fills(engine: TargetEngine, max_fills: int) -> list[dict[str, Any]]:
    fills: list[dict[str, Any]] = []
    before: int | None = None
    while True:
        query = f"/fills?limit={PAGE}" + (f"&before={before}" if before is not None else "")
        page = await engine.read(query)
        fills += page.get("fills", [])
        before = page.get("next_before")
        if before is None:
            return fills
        if len(fills) >= max_fills:
            raise OutOfReach(f"the account has over {max_fills} fills; raise the item's "
                             "max_fills to reconcile it")  # fmt: skip


def _fill_count(portfolio: dict[str, Any]) -> int:
    return sum(int(s.get("fills", 0)) for s in portfolio.get("strategies", []))


async def consistent_reads(
    engine: TargetEngine, params: ReconcileParams
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The portfolio and the fills it holds. Fills read after the portfolio may include
    later ones: fill ids rise in booking order, so the portfolio's are the lowest ids, as
    many as its strategies count. Read again if the fills fall short of that count."""
    for attempt in range(params.attempts):
        if attempt:
            await asyncio.sleep(0.25)
        portfolio = await engine.read("/portfolio")
        fills = await _fills(engine, params.max_fills)
        held = _fill_count(portfolio)
        if len(fills) >= held:
            return portfolio, sorted(fills, key=lambda fill: fill["id"])[:held]
    raise OutOfReach(f"GET {API}/fills kept listing fewer fills than the portfolio counts "
                     f"({params.attempts} tries)")  # fmt: skip


def discrepancies(portfolio: dict[str, Any], fills: list[dict[str, Any]],
                  tolerance: float) -> list[str]:  # fmt: skip
    """What does not add up, each naming both sides; empty when the books reconcile."""
    found: list[str] = []

    def compare(what: str, reported: float, recomputed: float) -> None:
        if not math.isclose(reported, recomputed, rel_tol=1e-9, abs_tol=tolerance):
            found.append(f"{what} is {reported:,.2f}, but {recomputed:,.2f} from the fills")

    signed = [(1.0 if f["side"] == "buy" else -1.0) * float(f["quantity"]) for f in fills]
    spent = sum(q * float(f["price"]) for q, f in zip(signed, fills, strict=True))
    commissions = sum(float(f["commission"]) for f in fills)
    compare("cash", portfolio["cash"], portfolio["starting_cash"] - spent - commissions)
    compare("commissions", portfolio["commissions"], commissions)

    held: dict[str, float] = defaultdict(float)
    for quantity, fill in zip(signed, fills, strict=True):
        held[fill["symbol"]] += quantity
    reported: dict[str, float] = defaultdict(float)
    for position in portfolio.get("positions", []):
        reported[position["symbol"]] += float(position["quantity"])
    for symbol in sorted(set(held) | set(reported)):
        if not math.isclose(held[symbol], reported[symbol], abs_tol=1e-9):
            found.append(f"{symbol} position is {reported[symbol]:g}, but "
                         f"{held[symbol]:g} from the fills")  # fmt: skip

    marks = {m["symbol"]: m["price"] for m in portfolio.get("market", []) if m.get("price")}
    unmarked = [s for s, q in reported.items() if q and s not in marks]
    if unmarked:
        found.append(f"no mark for {', '.join(sorted(unmarked))}: equity cannot be checked")
    else:
        marked = sum(q * marks[s] for s, q in reported.items() if q)
        compare("equity", portfolio["equity"], portfolio["cash"] + marked)
    identities = {
        "total PnL (equity less the start)": portfolio["equity"] - portfolio["starting_cash"],
        "total PnL (realized + unrealized - fees)": (portfolio["realized_pnl"]
                                                     + portfolio["unrealized_pnl"]
                                                     - portfolio["fees"]),
        "total PnL (its strategies' sum)": sum(s["total_pnl"] for s in portfolio["strategies"]),
    }  # fmt: skip
    for what, value in identities.items():
        if not math.isclose(portfolio["total_pnl"], value, rel_tol=1e-9, abs_tol=tolerance):
            found.append(f"total PnL is {portfolio['total_pnl']:,.2f}, but {what} is {value:,.2f}")
    return found


@probe("engine.reconcile", scopes=(Scope.TARGET,), params=ReconcileParams,
       needs=("base_url", "api_key"))  # fmt: skip
async def reconcile(ctx: ProbeContext, params: ReconcileParams) -> ProbeResult:
    """The target's portfolio reconciles with its own fills: cash, commissions and
    positions recomputed, equity and PnL identities hold, strategies sum to the account."""

    async def body(http: ProbeClient) -> ProbeResult:
        portfolio, fills = await consistent_reads(TargetEngine(http), params)
        try:
            found = discrepancies(portfolio, fills, params.tolerance)
        except (KeyError, TypeError, ValueError) as exc:
            raise OutOfReach(f"GET {API}/portfolio or /fills is not the document this probe "
                             f"reads: {type(exc).__name__}: {exc}") from None  # fmt: skip
        evidence: dict[str, object] = {
            "fills": len(fills), "cash": portfolio["cash"], "equity": portfolio["equity"],
            "total_pnl": portfolio["total_pnl"], "positions": len(portfolio["positions"]),
            "discrepancies": found,
        }  # fmt: skip
        if found:
            return ProbeResult(Verdict.FAIL, "; ".join(found), evidence)
        shown = (("cash", "cash"), ("equity", "equity"), ("total PnL", "total_pnl"))
        figures = ", ".join(f"{name} {portfolio[key]:,.2f}" for name, key in shown)
        reason = f"{len(fills)} fill(s) reconcile: {figures}"
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)


class StrategiesParams(ProbeParams):
    #: Fewer strategies than this in the library FAILs (a release that lost some).
    min_strategies: int = Field(default=1, ge=1)
    #: Strategy ids that must be in the library (the ones the desk trades).
    required: list[str] = Field(default_factory=list)


@probe("engine.strategies", scopes=(Scope.TARGET,), params=StrategiesParams,
       needs=("base_url", "api_key"))  # fmt: skip
async def strategies(ctx: ProbeContext, params: StrategiesParams) -> ProbeResult:
    """Every strategy of the target's library loads (none reported as failing to load),
    with the ones the item requires among them."""

    async def body(http: ProbeClient) -> ProbeResult:
        library = await TargetEngine(http).read("/strategies")
        loaded = sorted(s["id"] for s in library.get("strategies", []))
        errors = [e.get("error") or e.get("message", "?") for e in library.get("errors", [])]
        missing = [s for s in params.required if s not in loaded]
        evidence: dict[str, object] = {"loaded": len(loaded), "errors": errors,
                                       "missing": missing}  # fmt: skip
        failures: list[str] = []
        if errors:
            failures.append(f"{len(errors)} did not load: {'; '.join(errors[:3])}")
        if missing:
            failures.append(f"missing from the library: {', '.join(missing)}")
        if len(loaded) < params.min_strategies:
            failures.append(f"{len(loaded)} strategies, fewer than {params.min_strategies}")
        if failures:
            return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
        return ProbeResult(Verdict.PASS, f"all {len(loaded)} strategies load", evidence)

    return await run_http_probe(ctx.target, body, needs_api_key=True, breakers=ctx.breakers)
