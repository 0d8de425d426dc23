"""``/api/v1/auth``: an API key for tokens, a refresh token for the next ones,
revocation, and who the caller is. The judging, lockout and audit are the
``ApiAuthenticator``'s."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Security
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from console.api.authenticator import ApiAuthenticator
from console.api.caller import Caller
from console.api.context import ApiContext, context_of
from console.api.problems import Problem
from console.api.tokens import MAX_TOKEN_CHARS, Issued

router = APIRouter(prefix="/auth", tags=["auth"])
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="An API key from `quarterdeck users add NAME "
                              "--role ROLE --api-key`.")  # fmt: skip
REFUSALS: dict[int | str, dict[str, str]] = {
    401: {"description": "the credential is not valid (audited, counted toward a lockout)"},
    429: {"description": "locked out after 5 failures in 5 minutes; see Retry-After"},
}


def authenticator_of(context: Annotated[ApiContext, Depends(context_of)]) -> ApiAuthenticator:
    if not isinstance(context.authenticator, ApiAuthenticator):
        raise Problem(404, "this server issues no API tokens")
    return context.authenticator


Authority = Annotated[ApiAuthenticator, Depends(authenticator_of)]


class Tokens(BaseModel):
    access_token: str = Field(description="A JWT for `Authorization: Bearer`.")
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_token: str = Field(description="For `POST /api/v1/auth/refresh`; works once.")
    refresh_expires_in: int = Field(description="Seconds the refresh token is valid.")


def tokens_of(issued: Issued) -> Tokens:
    return Tokens(access_token=issued.access_token, token_type="bearer",
                  expires_in=issued.expires_in, refresh_token=issued.refresh_token,
                  refresh_expires_in=issued.refresh_expires_in)  # fmt: skip


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS)


class RevokeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=MAX_TOKEN_CHARS,
                       description="An access token (revoked alone) or a refresh token "
                       "(its whole family, with the access tokens issued with it).")  # fmt: skip


class Revoked(BaseModel):
    revoked: Literal["access_token", "refresh_token"]


class Me(BaseModel):
    user: str
    role: str


@router.post("/token", summary="Exchange an API key (X-API-Key) for tokens",
             responses=REFUSALS)  # fmt: skip
async def token(
    request: Request, authority: Authority,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
) -> Tokens:  # fmt: skip
    return tokens_of(await authority.exchange(request, api_key))


@router.post("/refresh", summary="Rotate a refresh token; a reused one revokes its family",
             responses=REFUSALS)  # fmt: skip
async def refresh(request: Request, authority: Authority, body: RefreshRequest) -> Tokens:
    return tokens_of(await authority.refresh(request, body.refresh_token))


@router.post("/revoke", summary="Revoke an access token, or a refresh token's family",
             responses=REFUSALS)  # fmt: skip
async def revoke(request: Request, authority: Authority, body: RevokeRequest) -> Revoked:
    return Revoked(revoked=await authority.revoke(request, body.token))  # type: ignore[arg-type]


@router.get("/me", summary="Who the credentials sent are (a token or an API key)",
            responses=REFUSALS)  # fmt: skip
async def me(caller: Caller) -> Me:
    return Me(user=caller.name, role=caller.role.value)
