"""``http.auth``: protected routes refuse bad credentials, and tokens are short-lived.

How the probe authenticates (the contract it checks the service against):

- the API key (``target.api_key``) goes in the ``X-API-Key`` header; tokens,
  and an API key that is itself a JWT, go in ``Authorization: Bearer <jwt>``;
- a token is the API key itself when the key is a JWT, otherwise the one
  ``POST login_path`` returns when the API key is presented in ``X-API-Key``
  (an API-key-for-token exchange), read from the JSON field
  ``access_token`` (or ``token``, ``id_token``, ``jwt``).

The failing credentials it sends count toward a service's lockout of the probe
host, so it runs alone (``exclusive``); whether failed logins lock out is
``http.lockout``'s question.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import (
    API_KEY_HEADER,
    ProbeClient,
    credential_headers,
    is_jwt,
    run_http_probe,
)
from checks.probes.registry import probe
from core.events import Verdict

PROBE_USER = "qd-readiness-probe"  # the subject of the forged tokens
REJECTED = frozenset({401, 403})
LOCKED = frozenset({423, 429})  # what a service locked against the probe host answers
TOKEN_FIELDS = ("access_token", "token", "id_token", "jwt")
EVIDENCE_HEADERS = ("content-type", "www-authenticate", "retry-after", "set-cookie")


class AuthParams(ProbeParams):
    protected_path: str = "/api/v1/portfolio"
    login_path: str = "/api/v1/auth/token"
    max_jwt_lifetime_s: int = Field(default=900, gt=0)


# --- JWTs through PyJWT, imported where used (it loads cryptography's x509: ~80 ms of the
# console's start). The probe only reads claims, unverified, and forges junk.


def jwt_payload(token: str) -> dict[str, Any]:
    """The claims of a compact JWT, decoded without verifying anything (not even ``exp``):
    the probe has no key, and reads an expired token's lifetime all the same."""
    import jwt

    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as exc:
        raise ValueError(f"not a compact JWT (three dot-separated parts): {exc}") from None


def forged_jwt(claims: dict[str, Any], alg: str = "HS256") -> str:
    """A JWT no server can have issued: signed with a random key (or unsigned for
    ``alg: none``)."""
    import jwt

    key = None if alg == "none" else secrets.token_bytes(32)
    return jwt.encode(claims, key, algorithm=alg)


def token_lifetime(claims: dict[str, Any], now: float) -> tuple[float | None, str]:
    """``exp - iat`` in seconds (``exp - now`` without ``iat``), and how it was measured;
    None when the token has no usable ``exp``."""
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        return None, "no exp claim"
    iat = claims.get("iat")
    if isinstance(iat, int | float):
        return float(exp - iat), "exp - iat"
    return float(exp - now), "exp - now (no iat claim)"


def bad_credentials(now: float) -> list[tuple[str, dict[str, str]]]:
    """Requests a protected route must refuse: label and headers."""
    expired = {"sub": PROBE_USER, "iat": int(now) - 7200, "exp": int(now) - 3600}
    current = {"sub": PROBE_USER, "iat": int(now), "exp": int(now) + 300}
    return [
        ("no credentials", {}),
        ("wrong API key", {API_KEY_HEADER: "qd-probe-wrong-" + secrets.token_hex(12)}),
        ("expired JWT", {"Authorization": f"Bearer {forged_jwt(expired)}"}),
        ("unsigned JWT (alg none)", {"Authorization": f"Bearer {forged_jwt(current, 'none')}"}),
        ("malformed JWT", {"Authorization": "Bearer not.a-valid.jwt%"}),
    ]


def token_from(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        for field in TOKEN_FIELDS:
            if isinstance(data.get(field), str):
                return data[field]
    return None


@probe(
    "http.auth",
    scopes=(Scope.TARGET,),
    params=AuthParams,
    exclusive=True,
    needs=("base_url", "api_key"),
)
async def auth(ctx: ProbeContext, params: AuthParams) -> ProbeResult:
    """Protected routes refuse bad credentials, and tokens are short-lived.

    1. ``protected_path`` accepts the configured API key (else ERROR: the key
       is wrong, or the probe host is locked out, and nothing below would mean
       anything);
    2. it refuses (401/403) no credentials, a wrong key, an expired JWT, an
       unsigned ``alg: none`` JWT and a malformed one;
    3. the token (the key if it is a JWT, else from the login exchange) has
       ``exp - iat`` at most ``max_jwt_lifetime_s`` (claims read unverified).

    FAIL: any refusal missing, or a token too long-lived or without ``exp``.
    WARN: no token to check.
    """
    api_key = ctx.target.api_key or ""

    async def body(http: ProbeClient) -> ProbeResult:
        problems: list[str] = []
        warnings: list[str] = []
        evidence: dict[str, object] = {"exchanges": http.exchanges}

        accepted = await http.get(
            params.protected_path,
            headers=credential_headers(api_key),
            label="valid API key",
            evidence_headers=EVIDENCE_HEADERS,
        )
        if accepted.status_code in LOCKED:
            retry = accepted.headers.get("retry-after")
            reason = (
                f"target.api_key is refused by GET {params.protected_path} "
                f"({accepted.status_code}): the probe host is locked out or throttled"
                + (f"; retry after {retry} s" if retry else "")
            )
            return ProbeResult(Verdict.ERROR, reason, evidence)
        if accepted.status_code in REJECTED:
            reason = (
                f"target.api_key is refused by GET {params.protected_path} "
                f"({accepted.status_code}); check the key"
            )
            return ProbeResult(Verdict.ERROR, reason, evidence)
        if not accepted.is_success:
            reason = (
                f"GET {params.protected_path} with target.api_key answered "
                f"{accepted.status_code}, not 2xx; check protected_path"
            )
            return ProbeResult(Verdict.ERROR, reason, evidence)

        now = time.time()
        refusals: dict[str, int] = {}
        for label, headers in bad_credentials(now):
            response = await http.get(
                params.protected_path,
                headers=headers,
                label=label,
                evidence_headers=EVIDENCE_HEADERS,
            )
            refusals[label] = response.status_code
            if response.status_code not in REJECTED:
                problems.append(f"{label} answered {response.status_code}, not 401/403")
        evidence["refusals"] = refusals

        token, source = await _token(http, params, api_key, warnings)
        if token is not None:
            evidence["token_source"] = source
            _check_lifetime(token, params, now, evidence, problems, warnings)

        if problems:
            return ProbeResult(Verdict.FAIL, "; ".join(problems + warnings), evidence)
        if warnings:
            return ProbeResult(Verdict.WARN, "; ".join(warnings), evidence)
        reason = (
            f"{len(refusals)} bad credentials refused, token lifetime within "
            f"{params.max_jwt_lifetime_s} s"
        )
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers, needs_api_key=True)


async def _token(
    http: ProbeClient, params: AuthParams, api_key: str, warnings: list[str]
) -> tuple[str | None, str]:
    if is_jwt(api_key):
        return api_key, "target.api_key"
    response = await http.send(
        "POST",
        params.login_path,
        headers={API_KEY_HEADER: api_key},
        label="token exchange",
        evidence_headers=EVIDENCE_HEADERS,
    )
    token = token_from(response) if response.is_success else None
    if token is None:
        warnings.append(
            f"token lifetime not checked: POST {params.login_path} with the API key answered "
            f"{response.status_code} without a token, and target.api_key is not a JWT"
        )
    return token, f"POST {params.login_path}"


def _check_lifetime(
    token: str,
    params: AuthParams,
    now: float,
    evidence: dict[str, object],
    problems: list[str],
    warnings: list[str],
) -> None:
    try:
        claims = jwt_payload(token)
    except ValueError as exc:
        warnings.append(f"token lifetime not checked: the token is not a JWT ({exc})")
        return
    lifetime, measured = token_lifetime(claims, now)
    evidence["token_claims"] = {k: claims[k] for k in ("iat", "exp", "nbf") if k in claims}
    evidence["token_lifetime_s"] = lifetime
    evidence["token_lifetime_measured_as"] = measured
    if lifetime is None:
        problems.append("the token has no exp claim: it never expires")
    elif lifetime > params.max_jwt_lifetime_s:
        problems.append(
            f"token lives {lifetime:.0f} s ({measured}), over {params.max_jwt_lifetime_s} s"
        )
