"""``http.error_leaks``: error responses carry no stack traces and debug mode is off."""

from __future__ import annotations

import re

import httpx

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, body_excerpt, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

#: What gives away a stack trace, an exception or a debug page: (name, pattern).
LEAK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Python traceback", re.compile(r"Traceback \(most recent call last\)")),
    ("stack frame", re.compile(r"File &quot;[^&]+&quot;, line \d+|File \"[^\"]+\", line \d+")),
    ("Java/.NET stack frame", re.compile(r"\n\s+at [\w$.]+\([\w$]+\.(?:java|cs|kt):\d+\)")),
    (
        "qualified exception name",
        re.compile(r"\b(?:[a-z_][a-z0-9_]*\.)+[A-Z]\w*(?:Error|Exception)\b"),
    ),
    (
        "Python exception name",
        re.compile(
            r"\b(?:ValueError|KeyError|TypeError|AttributeError|IndexError|NameError|"
            r"JSONDecodeError|ZeroDivisionError|RuntimeError|AssertionError|"
            r"UnboundLocalError|IntegrityError|OperationalError|ProgrammingError|"
            r"NotImplementedError)\b"
        ),
    ),
    (
        "framework debug page",
        re.compile(
            r"Starlette Debugger|Werkzeug Debugger|DEBUG = True|Whitelabel Error Page|"
            r"Django Version:|Laravel|Xdebug|Symfony Exception|<b>Fatal error</b>|"
            r"Server Error in '/' Application",
            re.IGNORECASE,
        ),
    ),
    ("debug flag", re.compile(r"[\"']debug[\"']\s*:\s*(?:true|1)\b", re.IGNORECASE)),
)
#: Response headers only debug toolbars and profilers send.
DEBUG_HEADERS = ("x-debug-token", "x-debug-token-link", "x-debug", "x-symfony-debug")
SNIPPET = 60
MALFORMED_JSON = b'{"symbol": "QD-PROBE", "qty": '


class ErrorLeaksParams(ProbeParams):
    path: str = "/api/v1/does-not-exist-qd-probe"
    # Where the malformed (truncated JSON) request goes: a route that parses a body.
    malformed_path: str = "/api/v1/jobs"


def find_leaks(text: str) -> list[dict[str, str]]:
    """Each leak pattern that matches ``text``, with the matched excerpt (pure)."""
    found = []
    for name, pattern in LEAK_PATTERNS:
        match = pattern.search(text)
        if match:
            start = max(0, match.start() - SNIPPET // 2)
            excerpt = text[start : match.end() + SNIPPET // 2].replace("\n", " ")
            found.append({"pattern": name, "excerpt": excerpt})
    return found


def leaks_in(response: httpx.Response) -> list[dict[str, str]]:
    found = find_leaks(response.text)
    for name in DEBUG_HEADERS:
        if name in response.headers:
            found.append(
                {"pattern": "debug header", "excerpt": f"{name}: {response.headers[name]}"}
            )
    return found


@probe("http.error_leaks", scopes=(Scope.TARGET,), params=ErrorLeaksParams, needs=("base_url",))
async def error_leaks(ctx: ProbeContext, params: ErrorLeaksParams) -> ProbeResult:
    """Error responses show no stack traces, exception names or debug pages.

    Sends GET of a missing ``path`` and a POST of truncated JSON to
    ``malformed_path`` (with the API key when configured, so the body reaches
    the parser), each asking for HTML and JSON. FAIL: a traceback, stack
    frame, exception class name, framework debug page, ``"debug": true`` or
    a debug header in either answer. WARN: the malformed request got a 5xx
    (the input is not validated, though nothing leaked).
    """

    async def body(http: ProbeClient) -> ProbeResult:
        accept = {"Accept": "text/html, application/json;q=0.9, */*;q=0.1"}
        missing = await http.get(params.path, headers=accept, label="missing route")
        malformed = await http.send(
            "POST",
            params.malformed_path,
            headers={**accept, **http.api_key_headers(), "Content-Type": "application/json"},
            content=MALFORMED_JSON,
            label="malformed JSON",
        )
        findings: dict[str, list[dict[str, str]]] = {}
        checked: dict[str, dict[str, object]] = {}
        for label, response in (("missing route", missing), ("malformed JSON", malformed)):
            checked[label] = {"status": response.status_code, "body": body_excerpt(response)}
            leaks = leaks_in(response)
            if leaks:
                findings[label] = leaks
        evidence: dict[str, object] = {
            "responses": checked,
            "leaks": findings,
            "exchanges": http.exchanges,
        }
        if findings:
            parts = [
                f"{label} ({checked[label]['status']}): "
                + ", ".join(sorted({leak["pattern"] for leak in leaks}))
                for label, leaks in findings.items()
            ]
            return ProbeResult(Verdict.FAIL, "error responses leak " + "; ".join(parts), evidence)
        if malformed.status_code >= 500:
            reason = (
                f"POST {params.malformed_path} with malformed JSON answered "
                f"{malformed.status_code}: input not validated (nothing leaked)"
            )
            return ProbeResult(Verdict.WARN, reason, evidence)
        reason = (
            f"no traces or debug output: missing route {missing.status_code}, "
            f"malformed JSON {malformed.status_code}"
        )
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers)
