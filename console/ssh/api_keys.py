"""API keys: what a script presents in ``X-API-Key`` to get tokens for the control API.

A key reads ``qdk_<id>_<secret>``: the id (12 hex digits) names the key in the users
file, in listings and in the audit trail; the secret (32 random bytes, base64url) is
shown once when the key is made and only its SHA-256 is kept. A high-entropy secret
needs no slow hash: nobody can try enough guesses against SHA-256 of 256 random bits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

PREFIX = "qdk"
KEY_ID = re.compile(r"^[0-9a-f]{12}$")
SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 bytes of base64url, unpadded
HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as the users file keeps it: never the secret, only its hash."""

    id: str
    sha256: str
    created: str  # ISO 8601, UTC, to the second

    def accepts(self, secret: str) -> bool:
        return matches(self.sha256, secret)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(sha256: str, secret: str) -> bool:
    """Whether ``secret`` hashes to ``sha256``, compared in constant time."""
    return hmac.compare_digest(sha256, digest(secret))


def new_api_key(taken: set[str]) -> tuple[ApiKey, str]:
    """A new key whose id is none of ``taken``, and the text to give its holder."""
    key_id = secrets.token_hex(6)
    while key_id in taken:
        key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return ApiKey(key_id, digest(secret), created), f"{PREFIX}_{key_id}_{secret}"


def split_api_key(text: str) -> tuple[str, str] | None:
    """The id and secret of a presented key; None when it cannot be one of ours."""
    prefix, _, rest = text.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not KEY_ID.match(key_id) or not SECRET.match(secret):
        return None
    return key_id, secret
