"""The SSH server's host key: made on first start, kept private, its fingerprint shown
so that users can check it the first time they connect."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import asyncssh

KEY_TYPE = "ssh-ed25519"


class HostKeyError(ValueError):
    """The host key file cannot be used; the message names it and says what to do."""


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The private host key in ``path``, created (mode 0600) if there is none.
    Returns the key and whether it was just created. A key file others can read is
    refused, as OpenSSH refuses one: whoever reads it can pose as this server."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return _create(path), True
    if mode & 0o077:
        raise HostKeyError(
            f"{path}: the host key is open to other users (mode {mode:04o}); run: chmod 600 {path}"
        )
    try:
        return asyncssh.read_private_key(path), False
    except (OSError, asyncssh.KeyImportError, ValueError) as exc:
        raise HostKeyError(f"{path}: not a usable private key: {exc}") from None


def _create(path: Path) -> asyncssh.SSHKey:
    key = asyncssh.generate_private_key(KEY_TYPE, comment="quarterdeck host key")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two servers starting at once must not both write a key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_host_key(path)[0]
    except OSError as exc:
        raise HostKeyError(f"{path}: cannot create the host key: {exc}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(key.export_private_key())
    return key


def fingerprint(key: asyncssh.SSHKey) -> str:
    """As ``ssh-keygen -lf`` and the ssh client print it: ``SHA256:...``."""
    return key.get_fingerprint("sha256")
