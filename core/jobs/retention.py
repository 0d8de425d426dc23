"""Retention: export files older than the configured age are removed, each removal
recorded in the audit trail (what, how old, by which rule)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from core.audit import append_entry
from core.store import Store

log = logging.getLogger(__name__)
ACTOR = "retention"


def remove_expired_exports(
    store: Store, folder: Path, max_age_seconds: float, now: float | None = None
) -> list[Path]:
    """Delete the files under ``folder`` last modified more than ``max_age_seconds``
    ago; returns them. Blocking: call it from a worker thread."""
    if not folder.is_dir():
        return []
    now = time.time() if now is None else now
    removed: list[Path] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        age = now - path.stat().st_mtime
        if age <= max_age_seconds:
            continue
        try:
            path.unlink()
        except OSError as exc:
            log.warning("retention: cannot remove %s: %s", path, exc)
            continue
        append_entry(store, ACTOR, "export.deleted", str(path), {
            "age_hours": round(age / 3600, 2), "max_age_hours": round(max_age_seconds / 3600, 2),
        })  # fmt: skip
        log.info("retention: removed %s (%.1f h old)", path, age / 3600)
        removed.append(path)
    return removed
