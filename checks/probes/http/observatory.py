"""Mozilla HTTP Observatory scoring of response headers, as a pure function.

``score_headers(headers)`` applies the header tests of the MDN HTTP
Observatory and returns a ``Scorecard``: each test's result (the
Observatory's own result names), its score modifier and whether it passed,
the score and the letter grade. Nothing here does I/O, so every rule is
unit-tested on literal header sets.

The rules follow Observatory's published scoring ("HTTP Observatory Scoring
Methodology", MDN, and the score table of mdn/mdn-http-observatory):

- Start at 100 and add every negative modifier. Only if the result is 90 or
  more are the positive modifiers (bonuses) added too. The floor is 0.
- Grade: the score rounded down to a multiple of 5 (100 and above count as
  100) looked up in the chart 100 A+, 90 A, 85 A-, 80 B+, 70 B, 65 B-,
  60 C+, 50 C, 45 C-, 40 D+, 30 D, 25 D-, below 25 F.

Tests applied (modifiers in brackets):

- content-security-policy: not implemented, report-only, or unparseable
  (-25); ``'unsafe-inline'`` or ``data:`` in script-src, or a broad source
  (``*``, ``https:``, ``http:``...) in script-src or object-src, each
  falling back to default-src and to ``*`` when neither is set (-20);
  ``http:``/``ftp:`` active sources (-20); ``'unsafe-eval'`` in script-src or
  style-src (-10); ``http:`` images or media only (-10, passes); unsafe
  sources in style-src only (0); ``default-src 'none'`` alone and clean (+10);
  otherwise clean (+5).
- cookies: session (name contains "login" or "sess") without Secure (-40),
  session without HttpOnly (-30), anti-CSRF (name contains "csrf") without
  SameSite (-20), SameSite invalid or None without Secure (-20), any cookie
  without Secure (-20, or -5 under a passing HSTS; -10 for a session
  cookie under HSTS); the worst applies. All Secure, sessions HttpOnly and
  every cookie SameSite (+5); without SameSite on some (0); none (0).
- strict-transport-security: missing (-20), unparseable or set twice (-20),
  max-age under 15552000 s (180 days; Observatory's "six months") (-10),
  otherwise 0. The preload list is not consulted (no +5).
- x-content-type-options: ``nosniff`` (0), missing or other (-5).
- x-frame-options: ``DENY``/``SAMEORIGIN`` (0), ``ALLOW-FROM`` (0), missing
  or invalid (-20); a CSP ``frame-ancestors`` overrides it (+5).
- referrer-policy: no-referrer, same-origin, strict-origin,
  strict-origin-when-cross-origin (+5); missing (0); origin,
  origin-when-cross-origin, unsafe-url, no-referrer-when-downgrade (-5);
  unrecognised (-5).
- cross-origin-resource-policy: same-origin or same-site (+10),
  cross-origin or missing (0), invalid (-5).

Where this differs from the Observatory, deliberately:

- Headers are judged as if they came over HTTPS: the probe scores one
  response's headers, and whether the site is served over TLS and redirects
  to it is for ``http.https_redirect`` and the TLS probes. So HSTS is scored
  from the header, and ``http:`` sources count as insecure schemes.
- A ``frame-ancestors`` of ``*`` or a bare scheme does not earn the
  frame-ancestors override (Observatory awards it for any frame-ancestors;
  such a policy protects nothing).
- Several CSP headers are combined by intersecting each directive's source
  lists, an approximation of Observatory's path-aware merge.
- Not scored here: redirection (its own probe), subresource integrity (needs
  an HTML body), CORS (its own probe, which sends an Origin).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The Observatory's grade chart: lowest score of each grade, best first.
GRADE_CHART: tuple[tuple[int, str], ...] = (
    (100, "A+"),
    (90, "A"),
    (85, "A-"),
    (80, "B+"),
    (70, "B"),
    (65, "B-"),
    (60, "C+"),
    (50, "C"),
    (45, "C-"),
    (40, "D+"),
    (30, "D"),
    (25, "D-"),
    (0, "F"),
)
#: Every grade, best first.
GRADES: tuple[str, ...] = tuple(grade for _, grade in GRADE_CHART)
MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90
#: Observatory's six months: 15768000 s strictly, but it accepts the common 180 days.
HSTS_MIN_MAX_AGE = 15_552_000

#: Result name -> (score modifier, what it means).
SCORE_TABLE: dict[str, tuple[int, str]] = {
    # Content Security Policy
    "csp-implemented-with-no-unsafe-default-src-none": (
        10,
        "CSP with default-src 'none' and no unsafe sources",
    ),
    "csp-implemented-with-no-unsafe": (5, "CSP without 'unsafe-inline' or 'unsafe-eval'"),
    "csp-implemented-with-unsafe-inline-in-style-src-only": (
        0,
        "CSP with unsafe sources in style-src only",
    ),
    "csp-implemented-with-insecure-scheme-in-passive-content-only": (
        -10,
        "CSP allows images or media over http",
    ),
    "csp-implemented-with-unsafe-eval": (-10, "CSP allows 'unsafe-eval'"),
    "csp-implemented-with-unsafe-inline": (
        -20,
        "CSP allows 'unsafe-inline' or data: in script-src, or broad script/object sources",
    ),
    "csp-implemented-with-insecure-scheme": (-20, "CSP allows resources over http"),
    "csp-header-invalid": (-25, "CSP header cannot be parsed"),
    "csp-not-implemented": (-25, "CSP header not implemented"),
    "csp-not-implemented-but-reporting-enabled": (
        -25,
        "CSP only in report-only mode (not enforced)",
    ),
    # Cookies
    "cookies-secure-with-httponly-sessions-and-samesite": (
        5,
        "cookies Secure, sessions HttpOnly, all SameSite",
    ),
    "cookies-secure-with-httponly-sessions": (0, "cookies Secure, sessions HttpOnly, no SameSite"),
    "cookies-not-found": (0, "no cookies set"),
    "cookies-without-secure-flag-but-protected-by-hsts": (
        -5,
        "cookies without Secure, protected by HSTS",
    ),
    "cookies-session-without-secure-flag-but-protected-by-hsts": (
        -10,
        "session cookie without Secure, protected by HSTS",
    ),
    "cookies-without-secure-flag": (-20, "cookies without the Secure flag"),
    "cookies-samesite-flag-invalid": (-20, "cookie SameSite invalid, or None without Secure"),
    "cookies-anticsrf-without-samesite-flag": (-20, "anti-CSRF cookie without SameSite"),
    "cookies-session-without-httponly-flag": (-30, "session cookie without HttpOnly"),
    "cookies-session-without-secure-flag": (-40, "session cookie without Secure"),
    # HSTS
    "hsts-implemented-max-age-at-least-six-months": (0, "HSTS max-age of at least 180 days"),
    "hsts-implemented-max-age-less-than-six-months": (-10, "HSTS max-age under 180 days"),
    "hsts-not-implemented": (-20, "HSTS header not implemented"),
    "hsts-header-invalid": (-20, "HSTS header cannot be recognised"),
    # X-Content-Type-Options
    "x-content-type-options-nosniff": (0, "X-Content-Type-Options: nosniff"),
    "x-content-type-options-not-implemented": (-5, "X-Content-Type-Options not implemented"),
    "x-content-type-options-header-invalid": (-5, "X-Content-Type-Options not 'nosniff'"),
    # X-Frame-Options
    "x-frame-options-implemented-via-csp": (5, "framing controlled by CSP frame-ancestors"),
    "x-frame-options-sameorigin-or-deny": (0, "X-Frame-Options DENY or SAMEORIGIN"),
    "x-frame-options-allow-from-origin": (0, "X-Frame-Options ALLOW-FROM"),
    "x-frame-options-not-implemented": (-20, "X-Frame-Options not implemented"),
    "x-frame-options-header-invalid": (-20, "X-Frame-Options cannot be recognised"),
    # Referrer-Policy
    "referrer-policy-private": (5, "Referrer-Policy keeps URLs private"),
    "referrer-policy-not-implemented": (0, "Referrer-Policy not implemented"),
    "referrer-policy-unsafe": (-5, "Referrer-Policy leaks URLs"),
    "referrer-policy-header-invalid": (-5, "Referrer-Policy cannot be recognised"),
    # Cross-Origin-Resource-Policy
    "cross-origin-resource-policy-implemented-with-same-origin": (10, "CORP same-origin"),
    "cross-origin-resource-policy-implemented-with-same-site": (10, "CORP same-site"),
    "cross-origin-resource-policy-implemented-with-cross-origin": (0, "CORP cross-origin"),
    "cross-origin-resource-policy-not-implemented": (0, "CORP not implemented"),
    "cross-origin-resource-policy-header-invalid": (-5, "CORP cannot be recognised"),
}

DANGEROUSLY_BROAD = frozenset(
    {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*", "https://*.*"}
)
UNSAFE_INLINE = frozenset({"'unsafe-inline'", "data:"})
BROAD_OR_INLINE = DANGEROUSLY_BROAD | UNSAFE_INLINE
PASSIVE_DIRECTIVES = ("img-src", "media-src")
NONCE_OR_HASH_PREFIXES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
# A policy shorter than this ("img-src" less one) cannot hold a directive.
SHORTEST_POLICY = len("img-src") - 1
DUPLICATES_ALLOWED = frozenset({"report-uri", "report-to"})

HeaderInput = Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One Observatory test: its result name, modifier and whether it passed."""

    test: str
    result: str
    passed: bool

    @property
    def modifier(self) -> int:
        return SCORE_TABLE[self.result][0]

    @property
    def description(self) -> str:
        return SCORE_TABLE[self.result][1]

    def as_evidence(self) -> dict[str, object]:
        return {
            "test": self.test,
            "result": self.result,
            "modifier": self.modifier,
            "pass": self.passed,
        }


@dataclass(frozen=True, slots=True)
class Scorecard:
    tests: tuple[RuleResult, ...]
    score: int
    grade: str

    def result(self, test: str) -> RuleResult:
        for item in self.tests:
            if item.test == test:
                return item
        raise KeyError(test)

    @property
    def failed(self) -> tuple[RuleResult, ...]:
        return tuple(item for item in self.tests if not item.passed)


def normalise(headers: HeaderInput) -> dict[str, list[str]]:
    """Headers as ``{lower-case name: [values in order]}``.

    Accepts a mapping (values a string or a list of strings) or an iterable of
    ``(name, value)`` pairs, as ``httpx.Headers.multi_items()`` gives.
    """
    result: dict[str, list[str]] = {}
    pairs: Iterable[tuple[str, str | Iterable[str]]]
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for name, value in pairs:
        values = [value] if isinstance(value, str) else list(value)
        result.setdefault(name.lower(), []).extend(values)
    return result


def grade_for(score: int) -> str:
    """The Observatory grade of a score."""
    for lowest, grade in GRADE_CHART:
        if score >= lowest:
            return grade
    return "F"


def grade_at_least(grade: str, minimum: str) -> bool:
    """Whether ``grade`` is ``minimum`` or better."""
    return GRADES.index(grade) <= GRADES.index(minimum)


def total_score(results: Iterable[RuleResult]) -> int:
    """100 plus the penalties; plus the bonuses only if that is 90 or more; never below 0."""
    modifiers = [item.modifier for item in results]
    uncurved = 100 + sum(m for m in modifiers if m < 0)
    score = uncurved + sum(m for m in modifiers if m > 0) if uncurved >= 90 else uncurved
    return max(score, 0)


def score_headers(headers: HeaderInput) -> Scorecard:
    """Run the Observatory header tests on one response's headers."""
    h = normalise(headers)
    csp_result, csp = content_security_policy(h)
    hsts = strict_transport_security(h)
    tests = (
        csp_result,
        cookies(h, hsts_passed=hsts.passed),
        hsts,
        x_content_type_options(h),
        x_frame_options(h, csp),
        referrer_policy(h),
        cross_origin_resource_policy(h),
    )
    score = total_score(tests)
    return Scorecard(tests, score, grade_for(score))


# --- Content Security Policy -------------------------------------------------


class CspParseError(ValueError):
    pass


def parse_csp(policies: list[str]) -> dict[str, set[str]]:
    """Directives -> lower-cased source sets, several policies intersected.

    Raises ``CspParseError`` for an empty or too short policy and for a
    directive repeated within one policy (report-uri and report-to excepted).
    """
    combined: dict[str, set[str]] = {}
    for policy in policies:
        policy = policy.replace("\r", "").replace("\n", "").strip()
        if len(policy) < SHORTEST_POLICY:
            raise CspParseError(f"policy too short: {policy!r}")
        seen: set[str] = set()
        parsed: dict[str, set[str]] = {}
        for entry in policy.split(";"):
            tokens = entry.split()
            if not tokens:
                continue
            directive = tokens[0].lower()
            if directive in seen:
                if directive in DUPLICATES_ALLOWED:
                    continue
                raise CspParseError(f"directive {directive} repeated")
            seen.add(directive)
            sources = {token.lower() for token in tokens[1:]}
            if not sources and directive.endswith("-src"):
                sources = {"'none'"}  # an empty source list allows nothing
            parsed[directive] = sources
        for directive, sources in parsed.items():
            if directive in combined:
                combined[directive] = combined[directive] & sources or {"'none'"}
            else:
                combined[directive] = set(sources)
    return combined


def _has_nonce_or_hash(sources: set[str]) -> bool:
    return any(source.startswith(NONCE_OR_HASH_PREFIXES) for source in sources)


def content_security_policy(h: dict[str, list[str]]) -> tuple[RuleResult, dict[str, set[str]]]:
    """The CSP test, and the parsed policy (empty when none or invalid)."""
    test = "content-security-policy"
    policies = [
        part.strip() for value in h.get("content-security-policy", []) for part in value.split(",")
    ]
    if not policies:
        result = (
            "csp-not-implemented-but-reporting-enabled"
            if h.get("content-security-policy-report-only")
            else "csp-not-implemented"
        )
        return RuleResult(test, result, False), {}
    try:
        csp = parse_csp(policies)
    except CspParseError:
        return RuleResult(test, "csp-header-invalid", False), {}
    if not csp:
        return RuleResult(test, "csp-not-implemented", False), {}

    default = csp.get("default-src")
    script_src = set(csp.get("script-src") or default or {"*"})
    style_src = set(csp.get("style-src") or default or {"*"})
    object_src = set(csp.get("object-src") or default or {"*"})

    # A nonce or hash makes browsers ignore 'unsafe-inline' (CSP level 2 fallback).
    for sources in (script_src, style_src):
        if _has_nonce_or_hash(sources):
            sources.discard("'unsafe-inline'")
    result: str | None = None
    if "'strict-dynamic'" in script_src:
        if _has_nonce_or_hash(script_src):
            # With strict-dynamic, host and scheme sources, 'self' and 'unsafe-inline' are ignored.
            script_src = {
                source
                for source in script_src
                if not source.startswith(tuple(DANGEROUSLY_BROAD))
                and source not in {"'self'", "'unsafe-inline'"}
            }
        else:
            result = "csp-header-invalid"

    active = [
        source
        for directive, sources in csp.items()
        if directive not in PASSIVE_DIRECTIVES and directive != "script-src"
        for source in sources
    ] + sorted(script_src)
    passive = [
        source
        for directive in PASSIVE_DIRECTIVES
        for source in (csp.get(directive) or default or set())
    ]

    def first(candidate: str) -> None:
        nonlocal result
        if result is None:
            result = candidate

    if script_src & BROAD_OR_INLINE or object_src & DANGEROUSLY_BROAD:
        first("csp-implemented-with-unsafe-inline")
    if any(source.startswith(("http:", "ftp:")) for source in active):
        first("csp-implemented-with-insecure-scheme")
    if "'unsafe-eval'" in script_src | style_src:
        first("csp-implemented-with-unsafe-eval")
    if any(source.startswith(("http:", "ftp:")) for source in passive):
        first("csp-implemented-with-insecure-scheme-in-passive-content-only")
    if style_src & BROAD_OR_INLINE:
        first("csp-implemented-with-unsafe-inline-in-style-src-only")
    if default == {"'none'"}:
        first("csp-implemented-with-no-unsafe-default-src-none")
    first("csp-implemented-with-no-unsafe")
    assert result is not None
    passed = result in {
        "csp-implemented-with-no-unsafe",
        "csp-implemented-with-no-unsafe-default-src-none",
        "csp-implemented-with-unsafe-inline-in-style-src-only",
        "csp-implemented-with-insecure-scheme-in-passive-content-only",
    }
    return RuleResult(test, result, passed), csp


# --- Cookies -------------------------------------------------------------------

# Cookie results from least to most severe; a worse one replaces a better one.
COOKIE_SEVERITY = (
    "cookies-without-secure-flag-but-protected-by-hsts",
    "cookies-without-secure-flag",
    "cookies-session-without-secure-flag-but-protected-by-hsts",
    "cookies-samesite-flag-invalid",
    "cookies-anticsrf-without-samesite-flag",
    "cookies-session-without-httponly-flag",
    "cookies-session-without-secure-flag",
)


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    secure: bool
    httponly: bool
    samesite: str | None  # the attribute's value, lower-cased; "" when given without one


def parse_set_cookie(value: str) -> Cookie:
    pair, *attributes = value.split(";")
    name = pair.split("=", 1)[0].strip()
    secure = httponly = False
    samesite: str | None = None
    for attribute in attributes:
        key, _, attr_value = attribute.strip().partition("=")
        key = key.strip().lower()
        if key == "secure":
            secure = True
        elif key == "httponly":
            httponly = True
        elif key == "samesite":
            samesite = attr_value.strip().lower()
    return Cookie(name, secure, httponly, samesite)


def cookies(h: dict[str, list[str]], *, hsts_passed: bool) -> RuleResult:
    test = "cookies"
    jar = [parse_set_cookie(value) for value in h.get("set-cookie", [])]
    jar = [cookie for cookie in jar if cookie.name]
    if not jar:
        return RuleResult(test, "cookies-not-found", True)
    result: str | None = None

    def worse(candidate: str) -> None:
        nonlocal result
        if result is None or COOKIE_SEVERITY.index(candidate) > COOKIE_SEVERITY.index(result):
            result = candidate

    missing_samesite = False
    for cookie in jar:
        lowered = cookie.name.lower()
        session = "login" in lowered or "sess" in lowered
        anticsrf = "csrf" in lowered
        if cookie.samesite is not None and cookie.samesite not in {"lax", "strict", "none"}:
            worse("cookies-samesite-flag-invalid")
        if cookie.samesite == "none" and not cookie.secure:
            worse("cookies-samesite-flag-invalid")
        if not cookie.secure:
            worse(
                "cookies-without-secure-flag-but-protected-by-hsts"
                if hsts_passed
                else "cookies-without-secure-flag"
            )
        if anticsrf and not cookie.samesite:
            worse("cookies-anticsrf-without-samesite-flag")
        if session and not cookie.secure:
            worse(
                "cookies-session-without-secure-flag-but-protected-by-hsts"
                if hsts_passed
                else "cookies-session-without-secure-flag"
            )
        if session and not cookie.httponly:
            worse("cookies-session-without-httponly-flag")
        if not cookie.samesite:
            missing_samesite = True
    if result is None:
        result = (
            "cookies-secure-with-httponly-sessions"
            if missing_samesite
            else "cookies-secure-with-httponly-sessions-and-samesite"
        )
    passed = result in {
        "cookies-secure-with-httponly-sessions",
        "cookies-secure-with-httponly-sessions-and-samesite",
    }
    return RuleResult(test, result, passed)


# --- The single-header tests ------------------------------------------------------------


def hsts_max_age(value: str) -> int | None:
    """The max-age of an HSTS value; None when absent or not a number."""
    for parameter in value.split(";"):
        key, _, number = parameter.strip().partition("=")
        if key.strip().lower() == "max-age":
            number = number.strip().strip('"')
            return int(number) if number.isdigit() else None
    return None


def strict_transport_security(h: dict[str, list[str]]) -> RuleResult:
    test = "strict-transport-security"
    values = h.get("strict-transport-security", [])
    if not values:
        return RuleResult(test, "hsts-not-implemented", False)
    if len(values) > 1 or "," in values[0]:
        return RuleResult(test, "hsts-header-invalid", False)  # set more than once
    max_age = hsts_max_age(values[0])
    if max_age is None:
        return RuleResult(test, "hsts-header-invalid", False)
    if max_age < HSTS_MIN_MAX_AGE:
        return RuleResult(test, "hsts-implemented-max-age-less-than-six-months", False)
    return RuleResult(test, "hsts-implemented-max-age-at-least-six-months", True)


def x_content_type_options(h: dict[str, list[str]]) -> RuleResult:
    test = "x-content-type-options"
    values = h.get("x-content-type-options", [])
    if not values:
        return RuleResult(test, "x-content-type-options-not-implemented", False)
    if values[0].strip().lower() == "nosniff":
        return RuleResult(test, "x-content-type-options-nosniff", True)
    return RuleResult(test, "x-content-type-options-header-invalid", False)


def x_frame_options(h: dict[str, list[str]], csp: dict[str, set[str]]) -> RuleResult:
    test = "x-frame-options"
    ancestors = csp.get("frame-ancestors")
    if ancestors and not ancestors & DANGEROUSLY_BROAD:
        return RuleResult(test, "x-frame-options-implemented-via-csp", True)
    values = h.get("x-frame-options", [])
    if not values:
        return RuleResult(test, "x-frame-options-not-implemented", False)
    value = values[0].strip().lower()
    if value in {"deny", "sameorigin"}:
        return RuleResult(test, "x-frame-options-sameorigin-or-deny", True)
    if value.startswith("allow-from"):
        return RuleResult(test, "x-frame-options-allow-from-origin", True)
    return RuleResult(test, "x-frame-options-header-invalid", False)


REFERRER_PRIVATE = (
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
)
REFERRER_UNSAFE = ("origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade")


def referrer_policy(h: dict[str, list[str]]) -> RuleResult:
    test = "referrer-policy"
    values = h.get("referrer-policy", [])
    if not values:
        return RuleResult(test, "referrer-policy-not-implemented", True)
    tokens = [token.strip().lower() for value in values for token in value.split(",")]
    known = [token for token in tokens if token in REFERRER_PRIVATE + REFERRER_UNSAFE]
    policy = known[-1] if known else ""  # browsers use the last policy they understand
    if policy in REFERRER_PRIVATE:
        return RuleResult(test, "referrer-policy-private", True)
    if policy in REFERRER_UNSAFE:
        return RuleResult(test, "referrer-policy-unsafe", False)
    return RuleResult(test, "referrer-policy-header-invalid", False)


def cross_origin_resource_policy(h: dict[str, list[str]]) -> RuleResult:
    test = "cross-origin-resource-policy"
    values = h.get("cross-origin-resource-policy", [])
    if not values:
        return RuleResult(test, "cross-origin-resource-policy-not-implemented", True)
    value = values[0].strip().lower()
    result = {
        "same-origin": "cross-origin-resource-policy-implemented-with-same-origin",
        "same-site": "cross-origin-resource-policy-implemented-with-same-site",
        "cross-origin": "cross-origin-resource-policy-implemented-with-cross-origin",
    }.get(value, "cross-origin-resource-policy-header-invalid")
    return RuleResult(test, result, result != "cross-origin-resource-policy-header-invalid")
