"""``http.auth``: protected routes refuse bad credentials, tokens are short-lived, logins lock out.

How the probe authenticates (the contract it checks the service against):

- the API key (``target.api_key``) goes in the ``X-API-Key`` header; tokens,
  and an API key that is itself a JWT, go in ``Authorization: Bearer <jwt>``;
- a token is the API key itself when the key is a JWT, otherwise the one
  ``POST login_path`` returns when the API key is presented in ``X-API-Key``
  (an API-key-for-token exchange), read from the JSON field
  ``access_token`` (or ``token``, ``id_token``, ``jwt``);
- password logins are ``POST login_path`` with JSON ``{"username",
  "password"}``. The lockout check sends wrong passwords for the dedicated
  user name ``qd-readiness-probe`` only, so it never locks a real account.
  A service that locks out by client address will also refuse the probe
  host's logins for its lockout period after this probe runs.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import httpx
from pydantic import Field, model_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult
from checks.probes.http.client import (
    API_KEY_HEADER,
    ProbeClient,
    credential_headers,
    is_jwt,
    run_http_probe,
)
from checks.probes.registry import probe
from core.events import Verdict

PROBE_USER = "qd-readiness-probe"
REJECTED = frozenset({401, 403})
LOCKED = frozenset({423, 429})
TOKEN_FIELDS = ("access_token", "token", "id_token", "jwt")
EVIDENCE_HEADERS = ("content-type", "www-authenticate", "retry-after", "set-cookie")


class AuthParams(ProbeParams):
    protected_path: str = "/api/orders"
    login_path: str = "/auth/login"
    max_jwt_lifetime_s: int = Field(default=900, gt=0)
    lockout_after: int = Field(default=5, ge=1)
    max_attempts: int = Field(default=10, ge=2)

    @model_validator(mode="after")
    def _room_to_see_a_lockout(self) -> AuthParams:
        if self.max_attempts <= self.lockout_after:
            raise ValueError(
                f"max_attempts ({self.max_attempts}) must exceed lockout_after "
                f"({self.lockout_after}) to see the refusal that follows the failures"
            )
        return self


# --- JWT without a JWT library: the probe only reads claims and forges junk ---------


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_part(token: str, index: int) -> dict[str, Any]:
    """Header (0) or payload (1) of a compact JWT, decoded without verifying anything."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a JWT has three dot-separated parts")
    try:
        decoded = json.loads(b64url_decode(parts[index]))
    except ValueError as exc:
        raise ValueError(f"JWT part {index} is not base64url JSON: {exc}") from None
    if not isinstance(decoded, dict):
        raise ValueError(f"JWT part {index} is not a JSON object")
    return decoded


def jwt_payload(token: str) -> dict[str, Any]:
    return jwt_part(token, 1)


def forged_jwt(claims: dict[str, Any], alg: str = "HS256") -> str:
    """A JWT no server can have issued: random signature (or none for ``alg: none``)."""
    header = b64url_encode(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url_encode(json.dumps(claims).encode())
    signature = "" if alg == "none" else b64url_encode(secrets.token_bytes(32))
    return f"{header}.{payload}.{signature}"


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


@probe("http.auth", params=AuthParams, needs=("base_url", "api_key"))
async def auth(ctx: ProbeContext, params: AuthParams) -> ProbeResult:
    """Protected routes refuse bad credentials; tokens are short-lived; logins lock out.

    1. ``protected_path`` accepts the configured API key (else ERROR: the key
       is wrong and nothing below would mean anything);
    2. it refuses (401/403) no credentials, a wrong key, an expired JWT, an
       unsigned ``alg: none`` JWT and a malformed one;
    3. the token (the key if it is a JWT, else from the login exchange) has
       ``exp - iat`` at most ``max_jwt_lifetime_s`` (claims read unverified);
    4. wrong passwords for ``qd-readiness-probe`` are refused with 423/429 once
       ``lockout_after`` have failed, within ``max_attempts`` attempts.

    FAIL: any refusal missing, a token too long-lived or without ``exp``, a
    wrong password accepted, or no lockout. WARN: no token to check, no login
    endpoint, or a lockout later than ``lockout_after`` failures.
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

        locked_after = await _check_lockout(http, params, evidence, problems, warnings)

        if problems:
            return ProbeResult(Verdict.FAIL, "; ".join(problems + warnings), evidence)
        if warnings:
            return ProbeResult(Verdict.WARN, "; ".join(warnings), evidence)
        reason = (
            f"{len(refusals)} bad credentials refused, token lifetime within "
            f"{params.max_jwt_lifetime_s} s, login locked after {locked_after} failures"
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


async def _check_lockout(
    http: ProbeClient,
    params: AuthParams,
    evidence: dict[str, object],
    problems: list[str],
    warnings: list[str],
) -> int | None:
    """Wrong passwords until a 423/429; returns the failures before it (None: no lockout)."""
    statuses: list[int] = []
    lockout: dict[str, object] = {"user": PROBE_USER, "statuses": statuses}
    evidence["lockout"] = lockout
    for attempt in range(1, params.max_attempts + 1):
        response = await http.send(
            "POST",
            params.login_path,
            json={"username": PROBE_USER, "password": "wrong-" + secrets.token_hex(8)},
            record=False,
        )
        statuses.append(response.status_code)
        if response.status_code in LOCKED:
            failures = attempt - 1
            lockout["failures_before_lock"] = failures
            lockout["retry_after"] = response.headers.get("retry-after")
            if failures > params.lockout_after:
                warnings.append(
                    f"login locked only after {failures} failures, more than {params.lockout_after}"
                )
            return failures
        if response.is_success:
            problems.append(f"POST {params.login_path} accepted a wrong password ({attempt})")
            return None
        if attempt == 1 and response.status_code in {404, 405}:
            warnings.append(
                f"lockout not checked: POST {params.login_path} answered {response.status_code}"
            )
            return None
    problems.append(
        f"no lockout: {params.max_attempts} wrong passwords for {PROBE_USER!r} "
        f"answered {sorted(set(statuses))}, never 423/429"
    )
    return None
