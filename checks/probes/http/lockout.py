"""``http.lockout``: repeated failed logins from one client are locked out.

The check sends wrong passwords (``POST login_path`` with JSON ``{"username",
"password"}``) for the dedicated user name ``qd-readiness-probe`` only, so it
never locks a real account. A service that locks out by client address also
refuses the probe host's logins for its lockout period afterwards: the probe is
registered ``locks_out``, so a checklist run gives it the target last.
"""

from __future__ import annotations

import secrets

from pydantic import Field, model_validator

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.auth import EVIDENCE_HEADERS, LOCKED
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

PROBE_USER = "qd-readiness-probe"


class LockoutParams(ProbeParams):
    login_path: str = "/api/v1/auth/token"
    lockout_after: int = Field(default=5, ge=1)
    max_attempts: int = Field(default=10, ge=2)

    @model_validator(mode="after")
    def _room_to_see_a_lockout(self) -> LockoutParams:
        if self.max_attempts <= self.lockout_after:
            raise ValueError(
                f"max_attempts ({self.max_attempts}) must exceed lockout_after "
                f"({self.lockout_after}) to see the refusal that follows the failures"
            )
        return self


@probe(
    "http.lockout",
    scopes=(Scope.TARGET,),
    params=LockoutParams,
    locks_out=True,
    needs=("base_url",),
)
async def lockout(ctx: ProbeContext, params: LockoutParams) -> ProbeResult:
    """Wrong passwords for ``qd-readiness-probe`` meet 423/429 after ``lockout_after`` failures.

    Up to ``max_attempts`` ``POST login_path``, stopping at the first 423/429.
    FAIL: a wrong password accepted, or no lockout. WARN: no login endpoint
    (404/405), or a lockout later than ``lockout_after`` failures.
    """

    async def body(http: ProbeClient) -> ProbeResult:
        statuses: list[int] = []
        evidence: dict[str, object] = {
            "user": PROBE_USER,
            "statuses": statuses,
            "exchanges": http.exchanges,
        }
        for attempt in range(1, params.max_attempts + 1):
            response = await http.send(
                "POST",
                params.login_path,
                json={"username": PROBE_USER, "password": "wrong-" + secrets.token_hex(8)},
                label=f"wrong password {attempt}",
                evidence_headers=EVIDENCE_HEADERS,
            )
            statuses.append(response.status_code)
            if response.status_code in LOCKED:
                failures = attempt - 1
                evidence["failures_before_lock"] = failures
                evidence["retry_after"] = response.headers.get("retry-after")
                if failures > params.lockout_after:
                    reason = (
                        f"login locked only after {failures} failures, "
                        f"more than {params.lockout_after}"
                    )
                    return ProbeResult(Verdict.WARN, reason, evidence)
                reason = f"login locked after {failures} failures ({response.status_code})"
                return ProbeResult(Verdict.PASS, reason, evidence)
            if response.is_success:
                reason = f"POST {params.login_path} accepted a wrong password ({attempt})"
                return ProbeResult(Verdict.FAIL, reason, evidence)
            if attempt == 1 and response.status_code in {404, 405}:
                reason = (
                    f"lockout not checked: POST {params.login_path} answered {response.status_code}"
                )
                return ProbeResult(Verdict.WARN, reason, evidence)
        reason = (
            f"no lockout: {params.max_attempts} wrong passwords for {PROBE_USER!r} "
            f"answered {sorted(set(statuses))}, never 423/429"
        )
        return ProbeResult(Verdict.FAIL, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers, honour_throttling=False)
