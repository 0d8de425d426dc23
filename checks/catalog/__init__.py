"""The checklist catalog: models, the TOML loader and the built-in ``*.toml`` files beside it."""

from checks.catalog.errors import ChecklistError, Problem
from checks.catalog.loader import (
    CATALOG_DIR,
    builtin_checklist,
    builtin_checklists,
    load_checklist,
)
from checks.catalog.models import (
    Checklist,
    ChecklistHeader,
    ChecklistItem,
    ItemKind,
    Role,
    Severity,
)

__all__ = [
    "CATALOG_DIR",
    "Checklist",
    "ChecklistError",
    "ChecklistHeader",
    "ChecklistItem",
    "ItemKind",
    "Problem",
    "Role",
    "Severity",
    "builtin_checklist",
    "builtin_checklists",
    "load_checklist",
]
