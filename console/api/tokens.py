"""The API's tokens: an API key is exchanged for a short-lived access token (a JWT, HS256)
and a refresh token (opaque, stored hashed, rotated on each use).

Every check happens on every call, against the users file as it is now and the store:
the signature, issuer, audience and expiry (PyJWT), the revocation of the token and of
its family, and that its user still exists, still holds the API key it was issued for,
and still has the role it names. So removing a user, revoking a key or changing a role
stops that user's tokens at once; revoking a refresh token stops its family.

Access token claims: ``iss``, ``aud``, ``sub`` (the user), ``role``, ``iat``, ``exp``,
``jti``, and two of ours: ``key`` (the API key id) and ``fam`` (the token family).

Everything here blocks (the users file, the store): call it from a worker thread.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from console.ssh.api_keys import digest, matches, split_api_key
from console.ssh.users import User, UsersFile
from core.access import Role
from core.store import ApiRefreshTokenRow, Store, api_tokens

ISSUER = "quarterdeck"
AUDIENCE = "quarterdeck-api"
ALGORITHM = "HS256"
CLAIMS = ("iss", "aud", "sub", "role", "iat", "exp", "jti", "key", "fam")
REFRESH_PREFIX = "qdr"
REFRESH = re.compile(r"^qdr_([0-9a-f]{24})_([A-Za-z0-9_-]{43})$")
MAX_TOKEN_CHARS = 4096


class AuthFailure(Exception):
    """A credential refused. ``reason`` is told to the client and audited; ``user`` is
    whose it claimed to be when that is known (the lockout counts it against them)."""

    def __init__(
        self, reason: str, *, user: str | None = None, action: str = "api.auth_failed",
        **detail: Any,
    ) -> None:  # fmt: skip
        super().__init__(reason)
        self.reason = reason
        self.user = user
        self.action = action
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a credential proved to be: the user as the users file has them now, the API
    key it stands on, and (for a token) its family."""

    user: User
    key_id: str
    family: str | None = None


@dataclass(frozen=True, slots=True)
class Issued:
    identity: Identity
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class TokenService:
    def __init__(
        self, secret: bytes, users: UsersFile, store: Store, *, access_seconds: int,
        refresh_seconds: int, clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._secret = secret
        self.users = users
        self.store = store
        self.access_seconds = access_seconds
        self.refresh_seconds = refresh_seconds
        self._clock = clock

    # --- proving who one is ------------------------------------------------------------

    def by_api_key(self, text: str) -> Identity:
        parts = split_api_key(text.strip())
        if parts is None:
            raise AuthFailure("the API key is not valid")
        key_id, secret = parts
        found = self.users.current().holder_of(key_id)
        if found is None:
            raise AuthFailure("the API key is not valid", key=key_id)
        user, key = found
        if not key.accepts(secret):
            raise AuthFailure("the API key is not valid", user=user.name, key=key_id)
        return Identity(user, key_id)

    def by_access_token(self, token: str) -> Identity:
        claims = self._decode(token)
        if api_tokens.revoked(self.store, jti=claims["jti"], family=claims["fam"]):
            raise AuthFailure("the access token has been revoked", user=claims["sub"],
                              jti=claims["jti"])  # fmt: skip
        return self._holder(claims["sub"], claims["key"], claims["fam"], Role(claims["role"]))

    # --- issuing, refreshing, revoking -------------------------------------------------

    def exchange(self, api_key: str) -> Issued:
        """A new token family for the holder of ``api_key``."""
        identity = self.by_api_key(api_key)
        now = self._clock()
        row, refresh_token = self._refresh_row(identity.user.name, identity.key_id,
                                               secrets.token_hex(12), now)  # fmt: skip
        api_tokens.add_refresh(self.store, row)
        return self._issued(Identity(identity.user, identity.key_id, row.family), now,
                            refresh_token)  # fmt: skip

    def refresh(self, refresh_token: str) -> Issued:
        """The next tokens of the family; a refresh token used before revokes the family."""
        row = self._genuine_refresh(refresh_token)
        now = self._clock()
        if row.expires_at <= now:
            raise AuthFailure("the refresh token has expired", user=row.user)
        if api_tokens.revoked(self.store, family=row.family):
            raise AuthFailure("the refresh token has been revoked", user=row.user)
        if row.used_at is not None:
            self._reused(row, now)
        identity = self._holder(row.user, row.key_id, row.family)  # with the role they have now
        successor, text = self._refresh_row(row.user, row.key_id, row.family, now)
        if not api_tokens.rotate(self.store, row, successor):  # another request used it first
            self._reused(row, now)
        return self._issued(identity, now, text)

    def revoke(self, token: str) -> tuple[str, str]:
        """Revoke an access token (by its ``jti``) or a refresh token (its whole family).
        Returns which kind it was and whose."""
        now = self._clock()
        if token.count(".") == 2:
            claims = self._decode(token, verify_exp=False)
            api_tokens.revoke_access(self.store, claims["jti"], now=now,
                                     expires_at=float(claims["exp"]))  # fmt: skip
            return "access_token", claims["sub"]
        row = self._genuine_refresh(token)
        api_tokens.revoke_families(self.store, [row.family], now=now,
                                   access_seconds=self.access_seconds)  # fmt: skip
        return "refresh_token", row.user

    # --- the parts ---------------------------------------------------------------------

    def _decode(self, token: str, *, verify_exp: bool = True) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthFailure("the access token is not valid (too long)")
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER,
                options={"require": list(CLAIMS), "verify_exp": verify_exp},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise AuthFailure("the access token has expired: refresh it") from None
        except jwt.InvalidTokenError as exc:
            raise AuthFailure(f"the access token is not valid ({exc})") from None
        if not all(isinstance(claims[name], str) for name in ("sub", "role", "jti", "key",
                                                               "fam")):  # fmt: skip
            raise AuthFailure("the access token is not valid (a claim is not a string)")
        if claims["role"] not in set(Role):
            raise AuthFailure("the access token is not valid (unknown role)")
        return claims

    def _holder(
        self, name: str, key_id: str, family: str | None, role: Role | None = None
    ) -> Identity:
        """``name`` as the users file has them now, if they still hold ``key_id`` (and
        still have ``role``, when given)."""
        user = self.users.current().get(name)
        if user is None:
            raise AuthFailure(f"the user {name!r} no longer exists", user=name)
        if user.api_key(key_id) is None:
            raise AuthFailure(f"the API key {key_id} has been revoked", user=name, key=key_id)
        if role is not None and user.role is not role:
            raise AuthFailure(f"{name}'s role has changed: get a new token", user=name)
        return Identity(user, key_id, family)

    def _genuine_refresh(self, text: str) -> ApiRefreshTokenRow:
        match = REFRESH.match(text.strip())
        row = api_tokens.refresh_row(self.store, match.group(1)) if match else None
        if row is None or match is None or not matches(row.secret_sha256, match.group(2)):
            raise AuthFailure("the refresh token is not valid", user=row.user if row else None)
        return row

    def _reused(self, row: ApiRefreshTokenRow, now: float) -> None:
        api_tokens.revoke_families(self.store, [row.family], now=now,
                                   access_seconds=self.access_seconds)  # fmt: skip
        raise AuthFailure("the refresh token was used already: its family is revoked",
                          user=row.user, action="api.refresh_reuse", family=row.family)  # fmt: skip

    def _refresh_row(
        self, user: str, key_id: str, family: str, now: float
    ) -> tuple[ApiRefreshTokenRow, str]:
        token_id, secret = secrets.token_hex(12), secrets.token_urlsafe(32)
        row = ApiRefreshTokenRow(id=token_id, family=family, user=user, key_id=key_id,
                                 secret_sha256=digest(secret), issued_at=now,
                                 expires_at=now + self.refresh_seconds)  # fmt: skip
        return row, f"{REFRESH_PREFIX}_{token_id}_{secret}"

    def _issued(self, identity: Identity, now: float, refresh_token: str) -> Issued:
        issued_at = int(now)
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": identity.user.name,
                  "role": identity.user.role.value, "iat": issued_at,
                  "exp": issued_at + self.access_seconds, "jti": secrets.token_hex(16),
                  "key": identity.key_id, "fam": identity.family}  # fmt: skip
        access_token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return Issued(identity, access_token, self.access_seconds, refresh_token,
                      self.refresh_seconds)  # fmt: skip
