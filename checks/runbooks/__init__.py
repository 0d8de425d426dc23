"""Runbooks: ordered rollback and deployment procedures, as data (``*.toml`` beside this module)."""

from checks.runbooks.loader import (
    RUNBOOK_DIR,
    RunbookError,
    builtin_runbook,
    builtin_runbooks,
    load_runbook,
)
from checks.runbooks.models import Runbook, RunbookHeader, Step, StepKind

__all__ = [
    "RUNBOOK_DIR",
    "Runbook",
    "RunbookError",
    "RunbookHeader",
    "Step",
    "StepKind",
    "builtin_runbook",
    "builtin_runbooks",
    "load_runbook",
]
