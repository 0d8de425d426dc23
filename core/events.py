"""Immutable messages that travel on the bus between the domain's parts and its views.

Times are seconds since the Unix epoch as floats. ``ts`` is the market's
(event) time, which for the simulator is simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Tick:
    symbol: str
    ts: float
    price: float
    size: float


@dataclass(frozen=True, slots=True)
class Bar:
    symbol: str
    ts: float  # start of the bar
    open: float
    high: float
    low: float
    close: float
    volume: float


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


@dataclass(frozen=True, slots=True)
class Fill:
    fill_id: int
    order_id: int
    strategy: str
    symbol: str
    side: Side
    quantity: float
    price: float
    commission: float
    ts: float


@dataclass(frozen=True, slots=True)
class PositionView:
    symbol: str
    quantity: float
    avg_price: float
    last_price: float
    unrealized_pnl: float
    realized_pnl: float


@dataclass(frozen=True, slots=True)
class PortfolioSnapshot:
    ts: float
    cash: float
    equity: float
    starting_equity: float
    realized_pnl: float
    unrealized_pnl: float
    commissions: float
    peak_equity: float
    fills: int
    positions: tuple[PositionView, ...] = ()

    @property
    def total_pnl(self) -> float:
        return self.equity - self.starting_equity

    @property
    def drawdown(self) -> float:
        """Fraction below the peak equity, 0 at a new high."""
        return 0.0 if self.peak_equity <= 0 else 1.0 - self.equity / self.peak_equity


class FeedState(StrEnum):
    STARTING = "starting"
    LIVE = "live"
    STALE = "stale"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class FeedStatus:
    name: str
    state: FeedState
    ticks: int
    ticks_per_second: float
    last_tick_age: float | None


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True, slots=True)
class JobUpdate:
    job_id: int
    kind: str
    title: str
    state: JobState
    done: int
    total: int
    rate: float  # evaluations per second
    eta_seconds: float | None
    summary: str = ""

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else self.done / self.total


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    ts: float
    cpu_percent: float
    memory_rss: int
    memory_percent: float
    loop_lag_ms: float
    loop_lag_max_ms: float
    feeds: tuple[FeedStatus, ...] = ()


class Verdict(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class CheckUpdate:
    checklist: str
    item_id: str
    verdict: Verdict
    reason: str = ""
    evidence: dict[str, object] = field(default_factory=dict)
