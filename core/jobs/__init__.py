"""Jobs: long-running work (optimizations, backtests) run off the event loop."""

from core.jobs.manager import JobContext, JobManager
from core.jobs.optimize import OptimizeRequest, run_optimize

__all__ = ["JobContext", "JobManager", "OptimizeRequest", "run_optimize"]
