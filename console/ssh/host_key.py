"""The SSH server's host key: made on first start, kept private, its fingerprint shown
so that users can check it the first time they connect."""

from __future__ import annotations

from pathlib import Path

import asyncssh

from core.private_files import OpenToOthers, read_or_create_private

KEY_TYPE = "ssh-ed25519"


class HostKeyError(ValueError):
    """The host key file cannot be used; the message names it and says what to do."""


def load_or_create_host_key(path: Path) -> tuple[asyncssh.SSHKey, bool]:
    """The private host key in ``path``, created (mode 0600) if there is none.
    Returns the key and whether it was just created. A key file others can read is
    refused, as OpenSSH refuses one: whoever reads it can pose as this server."""

    def make() -> bytes:
        key = asyncssh.generate_private_key(KEY_TYPE, comment="quarterdeck host key")
        return key.export_private_key()

    try:
        data, created = read_or_create_private(path, make)
    except OpenToOthers as exc:
        raise HostKeyError(f"{path}: the host key is open to other users (mode "
                           f"{exc.mode:04o}); run: chmod 600 {path}") from None  # fmt: skip
    except OSError as exc:
        raise HostKeyError(f"{path}: cannot read or create the host key: {exc}") from None
    try:
        return asyncssh.import_private_key(data), created
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise HostKeyError(f"{path}: not a usable private key: {exc}") from None


def fingerprint(key: asyncssh.SSHKey) -> str:
    """As ``ssh-keygen -lf`` and the ssh client print it: ``SHA256:...``."""
    return key.get_fingerprint("sha256")
