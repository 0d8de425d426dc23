"""Secrets kept in files of their own (the SSH host key, the API's token key): made on
first start with mode 0600, and refused when other users could read them, as OpenSSH
refuses a private key that is.

Two servers starting at once must not both write one: the file is created with
``O_EXCL``, and the one that loses the race reads the winner's.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path


class OpenToOthers(PermissionError):
    """The file's mode lets group or others in; ``mode`` is it."""

    def __init__(self, path: Path, mode: int) -> None:
        super().__init__(f"{path} is open to other users (mode {mode:04o}); run: chmod 600 {path}")
        self.mode = mode


def read_or_create_private(path: Path, make: Callable[[], bytes]) -> tuple[bytes, bool]:
    """The bytes of ``path``, written first from ``make()`` (mode 0600) when there is no
    such file; and whether it was just made. ``OpenToOthers`` when its mode lets others
    read it; ``OSError`` when it cannot be read or made."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        content = make()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return read_or_create_private(path, make)[0], False
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        return content, True
    if mode & 0o077:
        raise OpenToOthers(path, mode)
    return path.read_bytes(), False
