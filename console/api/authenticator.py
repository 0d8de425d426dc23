"""Who calls the API: the ``Authenticator`` the application is built with, and the
gate of the token routes, with the lockout and the audit trail SSH has.

Every call is judged on the Deck's loop, its blocking part (the users file, the store)
in a worker thread. A refused credential is 401, counted by the shared ``Lockout`` (5
within 5 minutes lock the address, and the user when known, for 5 minutes: over SSH
too) and audited ``api.auth_failed`` (``api.refresh_reuse`` for a refresh token used
twice), the lock itself ``api.lockout``. A call with no credentials at all is 401
without counting, except on the token route, whose whole purpose is a login.

A lock stops logins, not sessions, as over SSH (a lockout refuses new SSH logins; the
sessions open carry on). A login is an API key presented (for tokens, or as
``X-API-Key`` on a call): from a locked address or user it is refused with 429 and
``Retry-After`` unjudged, right key or wrong, so a guesser learns nothing while locked.
A session is a token a login issued: an access token, its refresh and its revocation
are judged even while locked (a failure still counts), so an operator already signed
in keeps the kill switch while someone who shares their address (a NAT, a VPN, a
proxy) keeps failing, and the readiness probes' lockout check does not cut off the
sessions of the host it ran from.

A protected route takes ``Authorization: Bearer <access token>`` or, as scripts and
the readiness probes use it, ``X-API-Key`` itself; the stream's handshake also takes
the token as ``?token=`` (browsers cannot set a WebSocket's headers).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from starlette.requests import HTTPConnection

from console.api.edges import client_address
from console.api.jwt_key import load_or_create_jwt_key
from console.api.problems import Problem
from console.api.tokens import AuthFailure, Identity, Issued, TokenService
from console.lockout import Lockout
from console.ssh.users import UsersFile
from core.access import Principal
from core.audit import append_entry

if TYPE_CHECKING:
    from core.deck import Deck

log = logging.getLogger(__name__)
T = TypeVar("T")
CHALLENGE = {"www-authenticate": 'Bearer realm="quarterdeck"'}
UNKNOWN = "(unknown)"  # the audit trail's actor when a credential names no user


class ApiAuthenticator:
    def __init__(self, deck: Deck, tokens: TokenService, lockout: Lockout) -> None:
        self.deck = deck
        self.tokens = tokens
        self.lockout = lockout

    async def principal(self, request: HTTPConnection) -> Principal:
        """The caller of a protected route (an HTTP request or a WebSocket)."""
        address = self._address(request)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not token and request.scope["type"] == "websocket":
            # a browser cannot set a handshake's headers: the token comes in the query
            scheme, token = "bearer", request.query_params.get("token", "")
        api_key = request.headers.get("x-api-key")
        if scheme.lower() == "bearer" and token.strip():  # a session: judged even if locked
            identity = await self._attempt(address, self.tokens.by_access_token, token.strip())
        elif api_key:  # a login, as over SSH
            self._refuse_if_locked(None, address)
            identity = await self._attempt(address, self.tokens.by_api_key, api_key)
            self._refuse_if_locked(identity.user.name, address)
            self.lockout.success(identity.user.name, address)
        else:
            raise Problem(401, "this call needs a bearer token (Authorization: Bearer ...) "
                          "or an API key (X-API-Key)", headers=CHALLENGE)  # fmt: skip
        return Principal(identity.user.name, identity.user.role, source=f"api {address}")

    async def exchange(self, request: HTTPConnection, api_key: str | None) -> Issued:
        """``POST /api/v1/auth/token``: an API key for a new token family (a login)."""
        address = self._address(request)
        self._refuse_if_locked(None, address)
        if not api_key:
            await self._failed(address, AuthFailure("the X-API-Key header is missing"))
        issued = await self._attempt(address, self.tokens.exchange, api_key or "")
        self._refuse_if_locked(issued.identity.user.name, address)
        self.lockout.success(issued.identity.user.name, address)
        await self._audit(issued.identity, "api.token", address)
        return issued

    async def refresh(self, request: HTTPConnection, refresh_token: str) -> Issued:
        """``POST /api/v1/auth/refresh``: the family's next tokens (the old one is spent);
        a session going on, so not refused by a lock."""
        address = self._address(request)
        issued = await self._attempt(address, self.tokens.refresh, refresh_token)
        await self._audit(issued.identity, "api.refresh", address)
        return issued

    async def revoke(self, request: HTTPConnection, token: str) -> str:
        """``POST /api/v1/auth/revoke``: returns the kind of token revoked. Never refused
        by a lock: revoking a leaked token is what its holder must always be able to do."""
        address = self._address(request)
        kind, user = await self._attempt(address, self.tokens.revoke, token)
        await self._record(user, "api.revoke", address, token=kind)
        return kind

    # --- the parts ---------------------------------------------------------------------

    def _address(self, request: HTTPConnection) -> str:
        """The client's address, unless the Deck is not running."""
        address = client_address(request.scope)
        if not self.deck.running:
            raise Problem(503, "Quarterdeck is starting or stopping; try again shortly",
                          headers={"retry-after": "1"})  # fmt: skip
        return address

    def _refuse_if_locked(self, user: str | None, address: str) -> None:
        left = self.lockout.remaining(user, address)
        if left:
            log.warning("api: %s from %s refused: locked out", user or "a client", address)
            raise Problem(429, f"too many failed authentications: locked for "
                          f"{math.ceil(left)} more seconds",
                          headers={"retry-after": str(math.ceil(left))})  # fmt: skip

    async def _attempt(self, address: str, judge: Callable[[str], T], credential: str) -> T:
        """Run ``judge`` on the credential in a thread; a refusal is counted, audited
        and answered 401."""
        try:
            return await asyncio.to_thread(judge, credential)
        except AuthFailure as failure:
            await self._failed(address, failure)

    async def _failed(self, address: str, failure: AuthFailure) -> NoReturn:
        locked = self.lockout.failure(failure.user, address)
        log.warning("api: failed authentication from %s (%s): %s", address,
                    failure.user or UNKNOWN, failure.reason)  # fmt: skip
        await self._record(failure.user or UNKNOWN, failure.action, address,
                           reason=failure.reason, **failure.detail)  # fmt: skip
        if locked:
            minutes = self.lockout.duration / 60
            log.warning("api lockout: %s locked for %g minutes after %d failures",
                        address, minutes, self.lockout.attempts)  # fmt: skip
            await self._record(failure.user or UNKNOWN, "api.lockout", address,
                               minutes=minutes)  # fmt: skip
        raise Problem(401, failure.reason, headers=CHALLENGE)

    async def _audit(self, identity: Identity, action: str, address: str) -> None:
        await self._record(identity.user.name, action, address, role=identity.user.role.value,
                           key=identity.key_id, family=identity.family)  # fmt: skip

    async def _record(self, actor: str, action: str, address: str, **detail: Any) -> None:
        """An audit entry, written in a thread; a failure to write is logged, as SSH does."""
        try:
            await asyncio.to_thread(append_entry, self.deck.store, actor, action, address,
                                    {"source": f"api {address}", **detail})  # fmt: skip
        except Exception as exc:
            log.error("api audit entry %s not written: %s", action, exc)


async def open_authenticator(deck: Deck, lockout: Lockout) -> ApiAuthenticator:
    """The authenticator of a server about to listen: the signing key is read (or made,
    on first start) now, so a key file others can read stops the start
    (``JwtKeyError``)."""
    settings = deck.settings
    secret, created = await asyncio.to_thread(load_or_create_jwt_key, settings.jwt_key_file)
    log.info("api token key %s (%s)", "created" if created else "loaded", settings.jwt_key_file)
    tokens = TokenService(secret, UsersFile(settings.users_file), deck.store,
                          access_seconds=settings.api_token_seconds,
                          refresh_seconds=settings.api_refresh_seconds)  # fmt: skip
    return ApiAuthenticator(deck, tokens, lockout)
