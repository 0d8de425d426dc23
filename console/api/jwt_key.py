"""The secret that signs the API's tokens (HS256): made on first start, kept private.

Like the SSH host key, it lives in a file beside the data (``api_jwt_key_file``,
default ``<data_dir>/api_jwt.key``), created mode 0600, and a file that other users can
read is refused: whoever reads it can mint tokens for any role.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from pathlib import Path

from core.private_files import OpenToOthers, read_or_create_private

KEY_BYTES = 64  # HS256 wants at least 32; more costs nothing


class JwtKeyError(ValueError):
    """The key file cannot be used; the message names it and says what to do."""


def load_or_create_jwt_key(path: Path) -> tuple[bytes, bool]:
    """The secret in ``path``, created (mode 0600) if there is none. Returns the secret
    and whether it was just created."""

    def make() -> bytes:
        return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n"

    try:
        data, created = read_or_create_private(path, make)
    except OpenToOthers as exc:
        raise JwtKeyError(f"api_jwt_key_file: {exc}") from None
    except OSError as exc:
        raise JwtKeyError(f"api_jwt_key_file: cannot read or create {path}: {exc}") from None
    try:
        secret = base64.urlsafe_b64decode(data.strip())
    except (binascii.Error, ValueError) as exc:
        raise JwtKeyError(f"api_jwt_key_file: {path} is not a usable key: {exc}") from None
    if len(secret) < 32:
        raise JwtKeyError(f"api_jwt_key_file: {path} holds {len(secret)} bytes; at least 32 "
                          "are needed (delete it to have a new one made)")  # fmt: skip
    return secret, created
