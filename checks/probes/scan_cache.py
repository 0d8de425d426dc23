"""What the tree scans (bandit, detect-secrets) found, kept by the bytes they scanned.

Both scanners are deterministic: the same files, scanned with the same scanner version and
settings, give the same findings. A scan of a large tree takes seconds (detect-secrets
runs its regexes a line at a time), while a release manager re-runs a checklist many
times over a tree that has not changed. So results are kept in Quarterdeck's data
directory (``cache/readiness``), keyed by each file's content hash: a file whose bytes
are unchanged is not scanned again, and any change to a file scans that file (or, for
bandit, which takes the tree whole, the tree) again. Nothing is trusted by name or mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.config import Settings

VERSION = 1  # of the files' layout: a new one ignores the old files


def cache_dir(settings: Settings) -> Path:
    return settings.data_dir / "cache" / "readiness"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_digest(root: Path, names: Iterable[str]) -> str:
    """One hash of the files ``names`` under ``root``: their names and their bytes."""
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(name.encode() + b"\0" + file_digest(root / name).encode() + b"\n")
    return digest.hexdigest()


class ScanCache:
    """One scanner's results for one tree and configuration, in one JSON file."""

    def __init__(self, settings: Settings, scanner: str, root: Path, configuration: Any) -> None:
        key = json.dumps([VERSION, str(root.resolve()), configuration], sort_keys=True,
                         default=str)  # fmt: skip
        name = f"{scanner}-{hashlib.sha256(key.encode()).hexdigest()[:24]}.json"
        self.path = cache_dir(settings) / name

    def load(self) -> dict[str, Any]:
        """The kept results ({} when there are none, or they cannot be read)."""
        try:
            kept = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return kept if isinstance(kept, dict) else {}

    def save(self, results: dict[str, Any]) -> None:
        """Keep ``results``, written beside and renamed into place (a reader never sees
        half a file); a cache that cannot be written is only a slower next run."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".part")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(results, file)
            os.replace(temporary, self.path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
