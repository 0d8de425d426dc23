"""Jobs: long-running work (optimizations, backtests) run off the event loop."""

from core.jobs.batch import BatchRequest, run_batch_job
from core.jobs.manager import JobContext, JobManager
from core.jobs.optimize import OptimizeRequest, run_optimize

__all__ = [
    "BatchRequest",
    "JobContext",
    "JobManager",
    "OptimizeRequest",
    "run_batch_job",
    "run_optimize",
]
