"""Readiness: the checklist catalog (data), probes, the runner and the Deck service.

Imports ``core``, never ``console`` or ``textual``.
"""

from checks.catalog import (
    CATALOG_DIR,
    Checklist,
    ChecklistError,
    ChecklistHeader,
    ChecklistItem,
    ItemKind,
    Problem,
    Role,
    Severity,
    builtin_checklist,
    builtin_checklists,
    load_checklist,
)
from checks.probes import (
    REGISTRY,
    ProbeContext,
    ProbeParams,
    ProbeRegistry,
    ProbeResult,
    ProbeSpec,
    UnknownProbeError,
    probe,
)
from checks.runner import run_checklist, run_probe
from checks.service import ReadinessService, context_from_deck

__all__ = [
    "CATALOG_DIR",
    "REGISTRY",
    "Checklist",
    "ChecklistError",
    "ChecklistHeader",
    "ChecklistItem",
    "ItemKind",
    "ProbeContext",
    "ProbeParams",
    "ProbeRegistry",
    "ProbeResult",
    "ProbeSpec",
    "Problem",
    "ReadinessService",
    "Role",
    "Severity",
    "UnknownProbeError",
    "builtin_checklist",
    "builtin_checklists",
    "context_from_deck",
    "load_checklist",
    "probe",
    "run_checklist",
    "run_probe",
]
