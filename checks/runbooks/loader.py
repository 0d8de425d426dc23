"""Loading runbooks from TOML files, with errors that name file, line and field.

The error reporting is the catalog's (``checks.catalog.errors`` and
``checks.catalog.source_map``): a broken runbook raises ``RunbookError``, a
``ChecklistError`` whose ``str()`` is one ``file:line: field: message`` per problem.
"""

from __future__ import annotations

from pathlib import Path

from checks.catalog.errors import ChecklistError
from checks.catalog.models import StrictModel
from checks.catalog.toml_document import load_directory, load_document
from checks.probes.registry import ProbeRegistry
from checks.runbooks.models import Runbook, RunbookHeader, Steps

#: Where the built-in runbooks live (beside this module).
RUNBOOK_DIR = Path(__file__).resolve().parent


class RunbookError(ChecklistError):
    """A runbook file that cannot be loaded."""


class _RunbookFile(StrictModel):
    runbook: RunbookHeader
    steps: Steps


def load_runbook(path: Path | str, *, registry: ProbeRegistry | None = None) -> Runbook:
    """Read and validate one runbook file; probe steps are checked against ``registry``
    (the built-in probe registry by default). Raises ``RunbookError``."""
    document = load_document(Path(path), _RunbookFile, RunbookError, "steps", "step", registry)
    return Runbook(**document.runbook.model_dump(), steps=document.steps)


def builtin_runbooks(*, registry: ProbeRegistry | None = None) -> dict[str, Runbook]:
    """Every runbook shipped in ``checks/runbooks/*.toml``, by runbook id."""
    return load_directory(RUNBOOK_DIR, lambda path: load_runbook(path, registry=registry),
                          RunbookError, "runbook")  # fmt: skip


def builtin_runbook(runbook_id: str, *, registry: ProbeRegistry | None = None) -> Runbook:
    """One built-in runbook by id (e.g. ``"rollback"``)."""
    runbooks = builtin_runbooks(registry=registry)
    try:
        return runbooks[runbook_id]
    except KeyError:
        known = ", ".join(sorted(runbooks)) or "none"
        raise KeyError(f"no built-in runbook {runbook_id!r}; known: {known}") from None
