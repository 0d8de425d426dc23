"""Loading checklists from TOML files, with errors that point at the line to fix."""

from __future__ import annotations

from pathlib import Path

from checks.catalog.errors import ChecklistError
from checks.catalog.models import Checklist, ChecklistHeader, Items, StrictModel
from checks.catalog.toml_document import load_directory, load_document
from checks.probes.registry import ProbeRegistry

#: Where the built-in catalog files live (shipped as package data).
CATALOG_DIR = Path(__file__).resolve().parent


class _CatalogFile(StrictModel):
    """The file's own shape: a ``[checklist]`` table and an array of ``[[items]]``."""

    checklist: ChecklistHeader
    items: Items


def load_checklist(path: Path | str, *, registry: ProbeRegistry | None = None) -> Checklist:
    """Read and validate one catalog file.

    Probe names (and their params) are checked against ``registry``, the
    built-in probe registry by default. Raises ``ChecklistError`` naming the
    file, line and field of every problem found.
    """
    document = load_document(Path(path), _CatalogFile, ChecklistError, "items", "item", registry)
    return Checklist(**document.checklist.model_dump(), items=document.items)


def builtin_checklists(*, registry: ProbeRegistry | None = None) -> dict[str, Checklist]:
    """Every checklist shipped in ``checks/catalog/*.toml``, by checklist id."""
    return load_directory(CATALOG_DIR, lambda path: load_checklist(path, registry=registry),
                          ChecklistError, "checklist")  # fmt: skip


def builtin_checklist(checklist_id: str, *, registry: ProbeRegistry | None = None) -> Checklist:
    """One built-in checklist by id (e.g. ``"production"``)."""
    checklists = builtin_checklists(registry=registry)
    try:
        return checklists[checklist_id]
    except KeyError:
        known = ", ".join(sorted(checklists)) or "none"
        raise KeyError(f"no built-in checklist {checklist_id!r}; known: {known}") from None
