"""Immutable messages that travel on the bus between the domain's parts and its views.

Times are seconds since the Unix epoch as floats. ``ts`` is the market's
(event) time, which for the simulator is simulated time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.audit import AuditEntry
    from core.research.strategies.loading import LoadError

#: Who stops a live strategy whose code raised or returned a wrong output.
ENGINE = "engine"
#: The strategy version of a fill journaled before fills recorded one.
UNKNOWN_VERSION = "unknown"


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
    """A fill at ``price`` (slippage included); ``slippage`` is what the slippage cost in
    money, against the market price the order met (``reference_price``)."""

    fill_id: int
    order_id: int
    strategy: str
    symbol: str
    side: Side
    quantity: float
    price: float
    commission: float
    ts: float
    slippage: float = 0.0
    #: The version of the strategy code that traded (``Strategy.version``); fills
    #: journaled before versions were recorded read as ``UNKNOWN_VERSION``.
    strategy_version: str = UNKNOWN_VERSION

    @property
    def reference_price(self) -> float:
        """The market price the fill met, before slippage."""
        if not self.slippage:
            return self.price
        return self.price - self.side.sign * self.slippage / self.quantity


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
    #: "account" for the whole account; a strategy's id for its sub-ledger.
    name: str = "account"
    #: The account's breakdown: one snapshot per strategy's sub-ledger.
    strategies: tuple[PortfolioSnapshot, ...] = ()
    #: The equity the risk governor measures the day's loss from (the UTC day's first
    #: equity, or the last reset's); None where no governor watches (a sub-ledger).
    day_start_equity: float | None = None
    slippage: float = 0.0  # money lost to slippage, against the market prices met

    @property
    def day_pnl(self) -> float | None:
        """Profit or loss since the day started, by the daily loss limit's measure."""
        return None if self.day_start_equity is None else self.equity - self.day_start_equity

    @property
    def fees(self) -> float:
        """Every cost of trading: commissions and slippage."""
        return self.commissions + self.slippage

    @property
    def total_pnl(self) -> float:
        """The one definition of PnL: realized and unrealized (both at the market prices
        the fills met, before costs) less the fees. It equals equity less the starting
        equity, to the cent."""
        return self.realized_pnl + self.unrealized_pnl - self.fees

    @property
    def drawdown(self) -> float:
        """Fraction below the peak equity, 0 at a new high."""
        return 0.0 if self.peak_equity <= 0 else 1.0 - self.equity / self.peak_equity


#: The equity curve's resolution: one point per minute of market time, the newest 240.
EQUITY_BUCKET_SECONDS = 60.0
EQUITY_POINTS = 240


def equity_bucket(snapshot: PortfolioSnapshot) -> int | None:
    """The minute of market time an account snapshot closes (None for a sub-ledger's)."""
    return int(snapshot.ts // EQUITY_BUCKET_SECONDS) if snapshot.name == "account" else None


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
    #: Venue event time to our receipt, seconds, over the recent window (live feeds).
    latency_p50: float | None = None
    latency_p99: float | None = None
    #: Messages dropped by the quality filter, all reasons.
    dropped: int = 0
    #: Where the data comes from now (a live feed's current source).
    source: str = ""


class AlertKind(StrEnum):
    """Why a feed raised an alert; the data-quality kinds double as drop reasons."""

    STALE = "stale"
    SPIKE = "spike"
    OUT_OF_ORDER = "out_of_order"
    DUPLICATE = "duplicate"
    NON_POSITIVE_PRICE = "non_positive_price"
    NEGATIVE_SIZE = "negative_size"
    CROSSED_BAR = "crossed_bar"
    UNPARSEABLE = "unparseable"
    VENUE_ERROR = "venue_error"
    LATENCY = "latency"
    FAILOVER = "failover"


@dataclass(frozen=True, slots=True)
class FeedAlert:
    """Something an operator should know about a feed's data or connection.

    Conditions that last (``STALE``, ``LATENCY``) are raised once when they
    begin and published again with ``active=False`` when they end; every
    other kind reports one occurrence. ``ts`` is the wall-clock time of the
    alert in epoch seconds.
    """

    feed: str
    kind: AlertKind
    message: str
    ts: float
    symbol: str | None = None
    active: bool = True


class RiskState(StrEnum):
    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


@dataclass(frozen=True, slots=True)
class LimitUsage:
    """How much of one risk limit is in use: ``used`` of ``limit`` (``detail`` says
    where, e.g. the symbol whose position is largest)."""

    name: str
    used: float
    limit: float
    detail: str = ""

    @property
    def fraction(self) -> float:
        """0 (unused) to 1 (reached); 0 for a limit that is not set (infinite)."""
        if self.limit == float("inf") or self.limit <= 0:
            return 0.0
        return min(1.0, max(0.0, self.used / self.limit))


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    """The risk governor's state and the distance to each limit, for the gauges."""

    ts: float
    state: RiskState
    limits: tuple[LimitUsage, ...]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


class JobPriority(IntEnum):
    """Lower runs first; FIFO within a priority."""

    HIGH = 0
    NORMAL = 1
    LOW = 2


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
    priority: JobPriority = JobPriority.NORMAL

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else self.done / self.total


class BreakerState(StrEnum):
    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


@dataclass(frozen=True, slots=True)
class BreakerStatus:
    """One circuit breaker around an outbound call (``core.health.breaker``)."""

    name: str
    state: BreakerState
    calls: int
    failures: int
    rejected: int
    last_error: str


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    ts: float
    cpu_percent: float
    memory_rss: int
    memory_percent: float
    loop_lag_ms: float
    loop_lag_max_ms: float
    feeds: tuple[FeedStatus, ...] = ()
    #: The newest feed alerts, oldest first (a bounded window).
    alerts: tuple[FeedAlert, ...] = ()
    #: The machine's memory in use, percent (``memory_percent`` is this process's share).
    host_memory_percent: float = 0.0
    #: The data directory's disk: percent used and bytes free.
    disk_percent: float = 0.0
    disk_free: int = 0
    #: File descriptors this process holds, and its soft limit (0: unknown).
    open_files: int = 0
    open_files_limit: int = 0
    #: The circuit breakers around outbound calls, by name.
    breakers: tuple[BreakerStatus, ...] = ()


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class AlertRaised:
    """An alert rule fired (``active``) or cleared (``active=False``).

    ``rule`` names the rule (``feed_stale``, ``memory``...), ``subject`` what it is
    about (a feed, a limit; "" when the rule has one subject). A condition that
    lasts is raised once, repeated while it lasts at the configured interval, and
    cleared once; an event (a risk state change) is raised once. ``ts`` is wall
    clock.
    """

    rule: str
    severity: Severity
    subject: str
    message: str
    ts: float
    active: bool = True


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


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One connected console: the local terminal or a remote SSH session."""

    session_id: int
    user: str
    role: str
    source: str  # "local", or the client's address
    opened_at: float


@dataclass(frozen=True, slots=True)
class SessionsChanged:
    ts: float
    sessions: tuple[SessionInfo, ...]


@dataclass(frozen=True, slots=True)
class StrategyChanged:
    """An operator started or stopped a live strategy, or the engine stopped one whose
    code failed (``who`` is ``ENGINE``). A stopped strategy places no orders; its
    positions stay as they are (the kill switch is what flattens). A restart is a start
    with the ``version`` of the code it runs from then on ("": the code is unchanged)."""

    ts: float
    strategy: str
    running: bool
    who: str
    why: str
    #: When it happened by the wall clock (``ts`` is market time, which a simulator or
    #: a replay runs ahead of or behind); not part of the change's identity.
    at: float = field(default_factory=time.time, compare=False)
    version: str = ""


@dataclass(frozen=True, slots=True)
class AuditAppended:
    """An entry was added to the audit trail (announced after its commit)."""

    entry: AuditEntry


@dataclass(frozen=True, slots=True)
class LogsAppended:
    """New records reached the in-memory log tail; ``seq`` is the newest one's number.

    Announcements are coalesced: one may stand for many records, so read the
    tail from the last number seen rather than counting events."""

    seq: int


@dataclass(frozen=True, slots=True)
class StrategyVersionChange:
    """A user strategy that came (``old`` None), went (``new`` None) or changed version
    (or file) in a load of the user strategies."""

    strategy: str
    source: str  # its file or package (the new one, if it moved)
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class StrategiesLoaded:
    """The user strategies were loaded: at the Deck's start (``reload`` False) or after a
    change in the strategies folder. ``changes`` is what differs from the load before
    (at start: every user strategy); ``errors`` is everything that did not load now, of
    which ``new_errors`` did load, or failed otherwise, before. ``ts`` is wall clock."""

    ts: float
    reload: bool
    changes: tuple[StrategyVersionChange, ...]
    errors: tuple[LoadError, ...]
    new_errors: tuple[LoadError, ...]
