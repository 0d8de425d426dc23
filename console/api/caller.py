"""Who is calling: the authenticated principal of a request, as a FastAPI dependency.

Routes declare ``caller: Caller`` and pass it to the Deck's command layer, which checks
the role (``core.guard``) and audits both the action and a refusal, exactly as for the
console and SSH: the API adds no rule of its own. How a request proves who it is (the
bearer token, or the API key itself) is the ``Authenticator`` the application was built
with: ``console.api.authenticator``.
"""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from console.api.problems import Problem
from core.access import Principal


class Authenticator(Protocol):
    async def principal(self, connection: HTTPConnection) -> Principal:
        """The caller of a request or of a WebSocket's handshake, or ``Problem`` 401 (no
        or bad credentials) or 429 (locked out)."""
        ...


async def principal_of(connection: HTTPConnection) -> Principal:
    """The caller, by the application's ``Authenticator`` (401 if it has none)."""
    authenticator: Authenticator | None = connection.app.state.context.authenticator
    if authenticator is None:
        raise Problem(401, "this server has no API authentication configured",
                      headers={"www-authenticate": "Bearer"})  # fmt: skip
    return await authenticator.principal(connection)


async def current_principal(request: Request) -> Principal:
    return await principal_of(request)


Caller = Annotated[Principal, Depends(current_principal)]
