"""Jobs: long-running work (optimizations, batches) run off the event loop, durably."""

from core.jobs.backtest import BACKTEST, BacktestRequest
from core.jobs.batch import BATCH, BatchRequest, run_batch_job
from core.jobs.context import JobContext
from core.jobs.export import EXPORT, ExportRequest
from core.jobs.kinds import JobKind, UnknownJobKindError
from core.jobs.manager import JobManager
from core.jobs.optimize import OPTIMIZE, OptimizeRequest, run_optimize
from core.jobs.walkforward import WALK_FORWARD, WalkForwardRequest

#: Every kind of job a manager can run or resume.
JOB_KINDS: dict[str, JobKind] = {
    kind.name: kind for kind in (BACKTEST, OPTIMIZE, BATCH, WALK_FORWARD, EXPORT)
}

__all__ = [
    "JOB_KINDS",
    "BacktestRequest",
    "BatchRequest",
    "ExportRequest",
    "JobContext",
    "JobKind",
    "JobManager",
    "OptimizeRequest",
    "UnknownJobKindError",
    "WalkForwardRequest",
    "run_batch_job",
    "run_optimize",
]
