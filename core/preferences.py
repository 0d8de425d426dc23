"""Per-user console preferences (the theme, for now), one small JSON file per user.

Files, not the database: a preference is read before the store is up (the
first frame must not wait for it), and losing one costs a user a re-pick,
never money. Writes go to a temporary file renamed into place, so a crash
mid-write leaves the old file whole.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class Preferences:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _file(self, user: str) -> Path:
        if not _SAFE_NAME.match(user) or user.startswith("."):
            raise ValueError(f"user name {user!r} cannot name a preferences file")
        return self.directory / f"{user}.json"

    def load(self, user: str) -> dict[str, Any]:
        """The user's preferences; an unreadable file is logged and treated as empty."""
        path = self._file(user)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable preferences %s: %s", path, exc)
            return {}
        if not isinstance(data, dict):
            log.warning("ignoring preferences %s: not a JSON object", path)
            return {}
        return data

    def set(self, user: str, key: str, value: Any) -> None:
        data = self.load(user)
        data[key] = value
        path = self._file(user)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, indent=2, sort_keys=True)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
