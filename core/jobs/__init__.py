"""Jobs: long-running work (optimizations, batches) run off the event loop, durably."""

from core.jobs.batch import BATCH, BatchRequest, run_batch_job
from core.jobs.context import JobContext
from core.jobs.export import EXPORT, ExportRequest
from core.jobs.kinds import JobKind, UnknownJobKindError
from core.jobs.manager import JobManager
from core.jobs.optimize import OPTIMIZE, OptimizeRequest, run_optimize

#: Every kind of job a manager can run or resume.
JOB_KINDS: dict[str, JobKind] = {kind.name: kind for kind in (OPTIMIZE, BATCH, EXPORT)}

__all__ = [
    "JOB_KINDS",
    "BatchRequest",
    "ExportRequest",
    "JobContext",
    "JobKind",
    "JobManager",
    "OptimizeRequest",
    "UnknownJobKindError",
    "run_batch_job",
    "run_optimize",
]
