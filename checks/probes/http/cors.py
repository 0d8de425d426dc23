"""``http.cors``: foreign origins (and ``null``) are not allowed to read the API."""

from __future__ import annotations

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

CORS_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "vary",
)
SEVERITY = {Verdict.PASS: 0, Verdict.WARN: 1, Verdict.FAIL: 2}


class CorsParams(ProbeParams):
    path: str = "/api/v1/risk"
    foreign_origin: str = "https://evil.example"


def judge_cors(
    origin: str, allow_origin: str | None, allow_credentials: str | None
) -> tuple[Verdict, str | None]:
    """The verdict on one response's CORS headers for a request from ``origin`` (pure)."""
    if allow_origin is None:
        return Verdict.PASS, None
    allowed = allow_origin.strip()
    credentials = (allow_credentials or "").strip().lower() == "true"
    if allowed == "*":
        if credentials:
            return Verdict.FAIL, (
                "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true "
                "(an invalid pair that shows the server means to share credentialed responses)"
            )
        return Verdict.WARN, (
            "Access-Control-Allow-Origin: * lets any website read these responses in a "
            "visitor's browser; fine only for public data, since no cookies go with *"
        )
    with_credentials = " with credentials: any website can act as the signed-in user" * credentials
    if origin == "null" and allowed.lower() == "null":
        return Verdict.FAIL, (
            "Origin: null is allowed (sandboxed iframes and local files send it)" + with_credentials
        )
    if allowed == origin:
        return Verdict.FAIL, f"reflects the arbitrary origin {origin}" + with_credentials
    return Verdict.PASS, None


@probe("http.cors", scopes=(Scope.TARGET,), params=CorsParams, needs=("base_url",))
async def cors(ctx: ProbeContext, params: CorsParams) -> ProbeResult:
    """No foreign or ``null`` origin may read ``path`` cross-origin.

    Sends a preflight (OPTIONS) and a GET from ``foreign_origin`` and from
    ``null``. FAIL: ``*`` with credentials, the foreign origin reflected
    (worse with ``Access-Control-Allow-Credentials: true``), or ``null``
    allowed. WARN: ``*`` without credentials (any site can read the answers,
    which suits public data only). PASS: the origin is not allowed.
    """

    async def body(http: ProbeClient) -> ProbeResult:
        verdict = Verdict.PASS
        problems: list[str] = []
        seen: dict[str, dict[str, str | None]] = {}
        for origin in (params.foreign_origin, "null"):
            preflight = {
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "x-api-key",
            }
            requests = (
                ("OPTIONS", preflight),
                ("GET", {"Origin": origin, **http.api_key_headers()}),
            )
            for method, headers in requests:
                label = f"{method} from Origin: {origin}"
                response = await http.send(
                    method, params.path, headers=headers, label=label, evidence_headers=CORS_HEADERS
                )
                allow_origin = response.headers.get("access-control-allow-origin")
                allow_credentials = response.headers.get("access-control-allow-credentials")
                seen[label] = {"allow_origin": allow_origin, "allow_credentials": allow_credentials}
                found, problem = judge_cors(origin, allow_origin, allow_credentials)
                if problem and problem not in problems:
                    problems.append(problem)
                if SEVERITY[found] > SEVERITY[verdict]:
                    verdict = found
        evidence: dict[str, object] = {"responses": seen, "exchanges": http.exchanges}
        if verdict is Verdict.PASS:
            reason = f"neither {params.foreign_origin} nor null may read {params.path}"
            return ProbeResult(Verdict.PASS, reason, evidence)
        return ProbeResult(verdict, "; ".join(problems), evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers)
