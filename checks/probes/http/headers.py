"""``http.security_headers``: the response headers, scored the HTTP Observatory way.

The Observatory score and grade come from ``observatory.score_headers``; two
OWASP REST Security recommendations are checked beside it:

- no version disclosure: ``X-Powered-By``, ``X-AspNet-Version`` and
  ``X-AspNetMvc-Version`` should not be sent at all, and ``Server`` should
  not name a version (``Server: nginx`` is tolerated, ``nginx/1.25.3`` is not);
- ``Cache-Control: no-store`` on API (JSON) responses, so that proxies and
  browsers keep no copy of account data.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

import httpx

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.http.observatory import (
    GRADES,
    Scorecard,
    grade_at_least,
    normalise,
    score_headers,
)
from checks.probes.registry import probe
from core.events import Verdict

Grade = Literal["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"]
assert get_args(Grade) == GRADES

#: Headers that exist only to name the software stack.
STACK_HEADERS = ("x-powered-by", "x-aspnet-version", "x-aspnetmvc-version")
VERSION = re.compile(r"\d+(\.\d+)+|/\s*\d")
#: A failed Observatory test costing this many points or more fails the probe on its own.
BLOCKING_PENALTY = -10


class SecurityHeadersParams(ProbeParams):
    path: str = "/"
    min_grade: Grade = "B"


def version_leaks(headers: dict[str, list[str]]) -> list[str]:
    """OWASP: headers that disclose the server software's version (``name: value`` each)."""
    leaks = [f"{name}: {value}" for name in STACK_HEADERS for value in headers.get(name, [])]
    leaks += [f"server: {value}" for value in headers.get("server", []) if VERSION.search(value)]
    return leaks


def is_api_response(headers: dict[str, list[str]]) -> bool:
    content_type = ";".join(headers.get("content-type", [])).lower()
    return "json" in content_type


def has_no_store(headers: dict[str, list[str]]) -> bool:
    directives = {
        part.strip().lower().split("=", 1)[0]
        for value in headers.get("cache-control", [])
        for part in value.split(",")
    }
    return "no-store" in directives


def judge(
    card: Scorecard, headers: dict[str, list[str]], min_grade: str
) -> tuple[Verdict, str, dict[str, object]]:
    """Verdict, reason and findings for a scored response (pure; unit-tested).

    FAIL: the grade is under ``min_grade``, or a failed test costs 10 points
    or more (no CSP or an unsafe one, HSTS missing or under 180 days, no
    framing control, insecure session cookies), or a version is disclosed.
    WARN: only 5-point failures (nosniff, Referrer-Policy, CORP, cookies
    without Secure under HSTS), or an API response without no-store.
    """
    blocking = [t for t in card.failed if t.modifier <= BLOCKING_PENALTY]
    minor = [t for t in card.failed if t.modifier > BLOCKING_PENALTY]
    leaks = version_leaks(headers)
    cache_missing = is_api_response(headers) and not has_no_store(headers)
    findings: dict[str, object] = {
        "blocking": [f"{t.result} ({t.modifier})" for t in blocking],
        "minor": [f"{t.result} ({t.modifier})" for t in minor],
        "version_leaks": leaks,
        "api_response_without_no_store": cache_missing,
    }
    problems = [t.description for t in blocking] + [f"discloses {leak}" for leak in leaks]
    warnings = [t.description for t in minor]
    if cache_missing:
        warnings.append("API response without Cache-Control: no-store")
    graded = f"grade {card.grade} ({card.score})"
    below = not grade_at_least(card.grade, min_grade)
    if below or problems:
        head = f"{graded}, under the minimum {min_grade}" if below else graded
        return Verdict.FAIL, "; ".join([head, *problems, *warnings]), findings
    if warnings:
        return Verdict.WARN, "; ".join([graded, *warnings]), findings
    return Verdict.PASS, f"{graded}, every header test passed", findings


@probe(
    "http.security_headers",
    scopes=(Scope.TARGET,),
    params=SecurityHeadersParams,
    needs=("base_url",),
)
async def security_headers(ctx: ProbeContext, params: SecurityHeadersParams) -> ProbeResult:
    """Security headers score at least ``min_grade`` on the HTTP Observatory scale.

    One GET of ``path``; its headers are scored with the Observatory's rules
    (``observatory.py``; judged as if served over HTTPS, since transport is
    the redirect and TLS probes' business) and checked against OWASP's REST
    recommendations (no version disclosure, no-store on API responses).
    Evidence: the exchange, every test's result and modifier, score, grade.
    """

    async def body(http: ProbeClient) -> ProbeResult:
        response: httpx.Response = await http.get(params.path, label="headers")
        headers = normalise(response.headers.multi_items())
        card = score_headers(headers)
        verdict, reason, findings = judge(card, headers, params.min_grade)
        evidence: dict[str, object] = {
            "score": card.score,
            "grade": card.grade,
            "min_grade": params.min_grade,
            "tests": [t.as_evidence() for t in card.tests],
            **findings,
            "scheme": response.url.scheme,
            "exchanges": http.exchanges,
        }
        if response.url.scheme == "http":
            evidence["note"] = (
                "served over plain http: browsers ignore HSTS there; the headers are scored "
                "as if served over https (see http.https_redirect)"
            )
        return ProbeResult(verdict, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers)
