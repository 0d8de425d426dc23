"""The secret that signs the API's tokens (HS256): made on first start, kept private.

Like the SSH host key, it lives in a file beside the data (``api_jwt_key_file``,
default ``<data_dir>/api_jwt.key``), created mode 0600, and a file that other users can
read is refused: whoever reads it can mint tokens for any role.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from pathlib import Path

KEY_BYTES = 64  # HS256 wants at least 32; more costs nothing


class JwtKeyError(ValueError):
    """The key file cannot be used; the message names it and says what to do."""


def load_or_create_jwt_key(path: Path) -> tuple[bytes, bool]:
    """The secret in ``path``, created (mode 0600) if there is none. Returns the secret
    and whether it was just created."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return _create(path)
    if mode & 0o077:
        raise JwtKeyError(f"api_jwt_key_file: {path} is open to other users (mode {mode:04o}); "
                          f"run: chmod 600 {path}")  # fmt: skip
    try:
        secret = base64.urlsafe_b64decode(path.read_bytes().strip())
    except (OSError, binascii.Error, ValueError) as exc:
        raise JwtKeyError(f"api_jwt_key_file: {path} is not a usable key: {exc}") from None
    if len(secret) < 32:
        raise JwtKeyError(f"api_jwt_key_file: {path} holds {len(secret)} bytes; at least 32 "
                          "are needed (delete it to have a new one made)")  # fmt: skip
    return secret, False


def _create(path: Path) -> tuple[bytes, bool]:
    secret = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two servers starting at once must not both write a key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_jwt_key(path)[0], False
    except OSError as exc:
        raise JwtKeyError(f"api_jwt_key_file: cannot create {path}: {exc}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(base64.urlsafe_b64encode(secret) + b"\n")
    return secret, True
