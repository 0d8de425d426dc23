"""``http.https_redirect``: plain HTTP answers with a redirect to HTTPS on the same host."""

from __future__ import annotations

import httpx

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, Unreachable, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

REDIRECTS = frozenset({301, 302, 307, 308})


class HttpsRedirectParams(ProbeParams):
    # Default: the base URL with the http scheme, on port 80 for an https base URL
    # (or the base URL itself when it is already plain http).
    http_url: str | None = None


def default_http_url(base_url: str) -> str:
    url = httpx.URL(base_url)
    if url.scheme == "https":
        return str(url.copy_with(scheme="http", port=None))
    return base_url


def judge_redirect(url: str, status: int, location: str | None) -> tuple[Verdict, str]:
    """The verdict on the answer to a plain-HTTP request for ``url`` (pure)."""
    if status not in REDIRECTS:
        if 200 <= status < 300:
            return Verdict.FAIL, f"{url} is served over plain HTTP ({status}), not redirected"
        return Verdict.FAIL, f"{url} answered {status}, not a redirect to https"
    if not location:
        return Verdict.FAIL, f"{url} answered {status} without a Location header"
    target = httpx.URL(url).join(location)
    if target.scheme != "https":
        return Verdict.FAIL, f"{url} redirects ({status}) to {target}, not to https"
    source_host = httpx.URL(url).host.lower()
    if target.host.lower() != source_host:
        return Verdict.FAIL, (
            f"{url} redirects ({status}) to another host, {target.host}: the first hop "
            f"must stay on {source_host} so that its HSTS header is seen"
        )
    return Verdict.PASS, f"{url} redirects ({status}) to {target}"


@probe(
    "http.https_redirect", scopes=(Scope.TARGET,), params=HttpsRedirectParams, needs=("base_url",)
)
async def https_redirect(ctx: ProbeContext, params: HttpsRedirectParams) -> ProbeResult:
    """Plain HTTP is redirected (301/302/307/308) to https on the same host.

    One GET of ``http_url`` without following redirects. FAIL: content served
    over HTTP, another status, or a redirect to http or to another host.
    WARN: nothing listens for plain HTTP at a derived or given ``http_url``
    (nothing to redirect; browsers typing the bare name get an error). When
    the base URL itself is plain http and refuses, the service is down: FAIL.
    """
    url = params.http_url or default_http_url(ctx.target.base_url)

    async def body(http: ProbeClient) -> ProbeResult:
        try:
            response = await http.get(
                url, evidence_headers=("location", "strict-transport-security")
            )
        except Unreachable as exc:
            if url == ctx.target.base_url:
                raise
            evidence = {"http_url": url, "error": str(exc.error), "exchanges": http.exchanges}
            reason = f"nothing answers plain HTTP at {url} ({exc.kind}): no redirect to check"
            return ProbeResult(Verdict.WARN, reason, evidence)
        location = response.headers.get("location")
        verdict, reason = judge_redirect(url, response.status_code, location)
        evidence: dict[str, object] = {
            "http_url": url,
            "status": response.status_code,
            "location": location,
            "exchanges": http.exchanges,
        }
        return ProbeResult(verdict, reason, evidence)

    return await run_http_probe(
        ctx.target, body, breakers=ctx.breakers, needs_base_url=params.http_url is None
    )
