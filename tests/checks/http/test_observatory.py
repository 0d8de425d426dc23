"""The HTTP Observatory scoring, on literal header sets, with hand-computed scores.

Rule table (MDN "HTTP Observatory Scoring Methodology" and the score table of
mdn/mdn-http-observatory, as restated in ``checks/probes/http/observatory.py``):

    start 100; add every penalty; if that is >= 90 add every bonus too; floor 0.
    grade: 100+ A+, 90 A, 85 A-, 80 B+, 70 B, 65 B-, 60 C+, 50 C, 45 C-, 40 D+,
    30 D, 25 D-, below F.

    CSP            not implemented / report-only / invalid -25; unsafe-inline or data:
                   or broad source in script-src, broad object-src -20; http: active
                   -20; unsafe-eval -10; http: img/media only -10 (passes); unsafe
                   style-src only 0; clean +5; clean with default-src 'none' +10
    cookies        session without Secure -40 (-10 under HSTS); session without
                   HttpOnly -30; anti-CSRF without SameSite -20; SameSite invalid -20;
                   without Secure -20 (-5 under HSTS); all good +5 (0 without SameSite)
    HSTS           missing / invalid -20; max-age < 15552000 -10; else 0
    nosniff        missing / invalid -5
    X-Frame-Opts   missing / invalid -20; DENY, SAMEORIGIN, ALLOW-FROM 0;
                   CSP frame-ancestors +5
    Referrer       private +5; missing 0; unsafe / invalid -5
    CORP           same-origin / same-site +10; cross-origin / missing 0; invalid -5
"""

from __future__ import annotations

import pytest

from checks.probes.http.headers import has_no_store, is_api_response, judge, version_leaks
from checks.probes.http.observatory import (
    GRADES,
    grade_at_least,
    grade_for,
    normalise,
    score_headers,
    total_score,
)
from core.events import Verdict

STRICT = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def with_(base: dict[str, str | list[str]], **changes: str | list[str] | None) -> dict:
    headers = dict(base)
    for name, value in changes.items():
        key = name.replace("_", "-")
        headers.pop(key, None)
        if value is not None:
            headers[key] = value
    return headers


@pytest.mark.parametrize(
    ("headers", "score", "grade"),
    [
        # Nothing: CSP -25, HSTS -20, X-Frame-Options -20, nosniff -5 = 30; D.
        ({}, 30, "D"),
        # STRICT: no penalty, 100 >= 90 so bonuses: CSP default-src 'none' +10,
        # frame-ancestors +5 = 115; A+.
        (STRICT, 115, "A+"),
        # STRICT + Referrer-Policy no-referrer +5 + CORP same-site +10 + a secure,
        # HttpOnly, SameSite session cookie +5 = 135.
        (
            with_(
                STRICT,
                Referrer_Policy="no-referrer",
                Cross_Origin_Resource_Policy="same-site",
                Set_Cookie="sessionid=1; Secure; HttpOnly; SameSite=Lax",
            ),
            135,
            "A+",
        ),
        # unsafe-inline in script-src -20 -> 80, under 90: no bonuses (frame-ancestors +5
        # is dropped). B+.
        (
            with_(
                STRICT,
                Content_Security_Policy="script-src 'self' 'unsafe-inline'; object-src 'none'; "
                "frame-ancestors 'none'",
            ),
            80,
            "B+",
        ),
        # HSTS one day -10 -> 90, which still earns the bonuses: 90 + 10 + 5 = 105. A+.
        (with_(STRICT, Strict_Transport_Security="max-age=86400"), 105, "A+"),
        # No HSTS -20 and no nosniff -5 -> 75; B. (Bonuses withheld.)
        (with_(STRICT, Strict_Transport_Security=None, X_Content_Type_Options=None), 75, "B"),
        # Session cookie without Secure or HttpOnly, no HSTS: the worst cookie result is
        # session-without-secure -40; plus HSTS -20 -> 40; D+.
        (
            with_(STRICT, Strict_Transport_Security=None, Set_Cookie="PHPSESSID=1; Path=/"),
            40,
            "D+",
        ),
        # Everything wrong: CSP -25, HSTS -20, XFO -20, nosniff -5, session cookie -40,
        # Referrer unsafe-url -5, CORP invalid -5 = -20 -> floored at 0; F.
        (
            {
                "Set-Cookie": "session=1",
                "Referrer-Policy": "unsafe-url",
                "Cross-Origin-Resource-Policy": "anyone",
            },
            0,
            "F",
        ),
    ],
)
def test_score_and_grade_match_hand_computation(
    headers: dict[str, str], score: int, grade: str
) -> None:
    card = score_headers(headers)
    assert (card.score, card.grade) == (score, grade), [t.as_evidence() for t in card.tests]


@pytest.mark.parametrize(
    ("test", "headers", "result", "modifier", "passed"),
    [
        # Content Security Policy
        ("content-security-policy", {}, "csp-not-implemented", -25, False),
        (
            "content-security-policy",
            {"Content-Security-Policy-Report-Only": "default-src 'none'"},
            "csp-not-implemented-but-reporting-enabled",
            -25,
            False,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'self'; default-src 'none'"},
            "csp-header-invalid",  # a repeated directive
            -25,
            False,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'self'"},
            "csp-implemented-with-no-unsafe",
            5,
            True,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'none'"},
            "csp-implemented-with-no-unsafe-default-src-none",
            10,
            True,
        ),
        (  # no script-src and no default-src: scripts may come from anywhere
            "content-security-policy",
            {"Content-Security-Policy": "img-src 'self'"},
            "csp-implemented-with-unsafe-inline",
            -20,
            False,
        ),
        (  # default-src falls back for script-src: * is dangerously broad
            "content-security-policy",
            {"Content-Security-Policy": "default-src *"},
            "csp-implemented-with-unsafe-inline",
            -20,
            False,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'self'; script-src 'self' data:"},
            "csp-implemented-with-unsafe-inline",
            -20,
            False,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'self'; script-src 'self' https:"},
            "csp-implemented-with-unsafe-inline",
            -20,
            False,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-eval'"},
            "csp-implemented-with-unsafe-eval",
            -10,
            False,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'self' http://cdn.example"},
            "csp-implemented-with-insecure-scheme",
            -20,
            False,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'self'; img-src http://img.example"},
            "csp-implemented-with-insecure-scheme-in-passive-content-only",
            -10,
            True,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
            "csp-implemented-with-unsafe-inline-in-style-src-only",
            0,
            True,
        ),
        (  # a nonce makes 'unsafe-inline' inert; strict-dynamic drops https: and 'self'
            "content-security-policy",
            {
                "Content-Security-Policy": "default-src 'none'; script-src 'nonce-r4nd' "
                "'unsafe-inline' 'strict-dynamic' https: 'self'"
            },
            "csp-implemented-with-no-unsafe-default-src-none",
            10,
            True,
        ),
        (
            "content-security-policy",
            {"Content-Security-Policy": "default-src 'self'; script-src 'strict-dynamic'"},
            "csp-header-invalid",  # strict-dynamic needs a nonce or hash
            -25,
            False,
        ),
        (  # two policies: each directive's sources intersect, so the stricter wins
            "content-security-policy",
            {"Content-Security-Policy": ["default-src 'self' https:", "default-src 'self'"]},
            "csp-implemented-with-no-unsafe",
            5,
            True,
        ),
        # HSTS
        ("strict-transport-security", {}, "hsts-not-implemented", -20, False),
        (
            "strict-transport-security",
            {"Strict-Transport-Security": "max-age=15552000"},  # exactly 180 days
            "hsts-implemented-max-age-at-least-six-months",
            0,
            True,
        ),
        (
            "strict-transport-security",
            {"Strict-Transport-Security": "max-age=15551999"},
            "hsts-implemented-max-age-less-than-six-months",
            -10,
            False,
        ),
        (
            "strict-transport-security",
            {"Strict-Transport-Security": "includeSubDomains"},
            "hsts-header-invalid",
            -20,
            False,
        ),
        (
            "strict-transport-security",
            {"Strict-Transport-Security": ["max-age=31536000", "max-age=60"]},
            "hsts-header-invalid",  # set twice
            -20,
            False,
        ),
        # X-Frame-Options
        ("x-frame-options", {}, "x-frame-options-not-implemented", -20, False),
        (
            "x-frame-options",
            {"X-Frame-Options": "SAMEORIGIN"},
            "x-frame-options-sameorigin-or-deny",
            0,
            True,
        ),
        (
            "x-frame-options",
            {"X-Frame-Options": "ALLOWALL"},
            "x-frame-options-header-invalid",
            -20,
            False,
        ),
        (
            "x-frame-options",
            {"Content-Security-Policy": "default-src 'self'; frame-ancestors 'self'"},
            "x-frame-options-implemented-via-csp",
            5,
            True,
        ),
        (  # frame-ancestors * protects nothing: falls back to the (missing) header
            "x-frame-options",
            {"Content-Security-Policy": "default-src 'self'; frame-ancestors *"},
            "x-frame-options-not-implemented",
            -20,
            False,
        ),
        # X-Content-Type-Options
        (
            "x-content-type-options",
            {"X-Content-Type-Options": "NoSniff"},
            "x-content-type-options-nosniff",
            0,
            True,
        ),
        (
            "x-content-type-options",
            {"X-Content-Type-Options": "sniff-away"},
            "x-content-type-options-header-invalid",
            -5,
            False,
        ),
        # Referrer-Policy
        ("referrer-policy", {}, "referrer-policy-not-implemented", 0, True),
        (
            "referrer-policy",
            {"Referrer-Policy": "unsafe-url, strict-origin-when-cross-origin"},
            "referrer-policy-private",  # the last policy the browser knows wins
            5,
            True,
        ),
        (
            "referrer-policy",
            {"Referrer-Policy": "no-referrer, origin"},
            "referrer-policy-unsafe",
            -5,
            False,
        ),
        (
            "referrer-policy",
            {"Referrer-Policy": "nobody"},
            "referrer-policy-header-invalid",
            -5,
            False,
        ),
        # Cookies (STRICT's HSTS passes, so the "protected by HSTS" variants apply)
        ("cookies", {}, "cookies-not-found", 0, True),
        (
            "cookies",
            {**STRICT, "Set-Cookie": "theme=dark; Secure"},
            "cookies-secure-with-httponly-sessions",  # not a session cookie; no SameSite
            0,
            True,
        ),
        (
            "cookies",
            {**STRICT, "Set-Cookie": "theme=dark"},
            "cookies-without-secure-flag-but-protected-by-hsts",
            -5,
            False,
        ),
        ("cookies", {"Set-Cookie": "theme=dark"}, "cookies-without-secure-flag", -20, False),
        (
            "cookies",
            {**STRICT, "Set-Cookie": "sessionid=1; HttpOnly"},
            "cookies-session-without-secure-flag-but-protected-by-hsts",
            -10,
            False,
        ),
        (
            "cookies",
            {**STRICT, "Set-Cookie": "sessionid=1; Secure; SameSite=Strict"},
            "cookies-session-without-httponly-flag",
            -30,
            False,
        ),
        (
            "cookies",
            {**STRICT, "Set-Cookie": "csrftoken=1; Secure"},
            "cookies-anticsrf-without-samesite-flag",
            -20,
            False,
        ),
        (
            "cookies",
            {**STRICT, "Set-Cookie": ["a=1; Secure; SameSite=Lax", "b=2; Secure; SameSite=Bogus"]},
            "cookies-samesite-flag-invalid",
            -20,
            False,
        ),
        (
            "cookies",
            {"Set-Cookie": "login=1; Secure; SameSite=Strict"},  # session-like but no HttpOnly
            "cookies-session-without-httponly-flag",
            -30,
            False,
        ),
        # Cross-Origin-Resource-Policy
        (
            "cross-origin-resource-policy",
            {},
            "cross-origin-resource-policy-not-implemented",
            0,
            True,
        ),
        (
            "cross-origin-resource-policy",
            {"Cross-Origin-Resource-Policy": "same-origin"},
            "cross-origin-resource-policy-implemented-with-same-origin",
            10,
            True,
        ),
        (
            "cross-origin-resource-policy",
            {"Cross-Origin-Resource-Policy": "cross-origin"},
            "cross-origin-resource-policy-implemented-with-cross-origin",
            0,
            True,
        ),
    ],
)
def test_each_rule_gives_observatory_result_and_modifier(
    test: str, headers: dict, result: str, modifier: int, passed: bool
) -> None:
    item = score_headers(headers).result(test)
    assert (item.result, item.modifier, item.passed) == (result, modifier, passed)


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (145, "A+"), (100, "A+"), (99, "A"), (90, "A"), (89, "A-"), (85, "A-"), (84, "B+"),
        (80, "B+"), (79, "B"), (70, "B"), (69, "B-"), (65, "B-"), (64, "C+"), (60, "C+"),
        (59, "C"), (50, "C"), (49, "C-"), (45, "C-"), (44, "D+"), (40, "D+"), (39, "D"),
        (30, "D"), (29, "D-"), (25, "D-"), (24, "F"), (0, "F"),
    ],
)  # fmt: skip
def test_grade_chart_boundaries(score: int, grade: str) -> None:
    assert grade_for(score) == grade


def test_grade_order_and_comparison() -> None:
    assert GRADES[0] == "A+" and GRADES[-1] == "F" and len(GRADES) == 13
    assert grade_at_least("A-", "B")
    assert grade_at_least("B", "B")
    assert not grade_at_least("B-", "B")


def test_bonuses_only_count_from_ninety() -> None:
    from checks.probes.http.observatory import RuleResult

    def results(*names: str) -> list[RuleResult]:
        return [RuleResult("t", name, True) for name in names]

    # -10 leaves 90: +10 counts -> 100.
    at_ninety = results(
        "hsts-implemented-max-age-less-than-six-months",
        "csp-implemented-with-no-unsafe-default-src-none",
    )
    assert total_score(at_ninety) == 100
    # -20 leaves 80: the +10 is withheld.
    below = results("hsts-not-implemented", "csp-implemented-with-no-unsafe-default-src-none")
    assert total_score(below) == 80


def test_headers_normalise_from_mapping_or_pairs() -> None:
    pairs = [("Set-Cookie", "a=1"), ("set-cookie", "b=2"), ("X-Frame-Options", "DENY")]
    assert normalise(pairs) == {"set-cookie": ["a=1", "b=2"], "x-frame-options": ["DENY"]}
    assert normalise({"Set-Cookie": ["a=1", "b=2"]}) == {"set-cookie": ["a=1", "b=2"]}


# --- The OWASP checks and the verdict beside the score ---------------------------------


@pytest.mark.parametrize(
    ("headers", "leaks"),
    [
        ({"server": ["nginx"]}, []),
        ({"server": ["nginx/1.25.3"]}, ["server: nginx/1.25.3"]),
        ({"server": ["Microsoft-IIS/10.0"]}, ["server: Microsoft-IIS/10.0"]),
        ({"server": ["Apache 2.4.58"]}, ["server: Apache 2.4.58"]),
        ({"x-powered-by": ["Express"]}, ["x-powered-by: Express"]),
        ({"x-aspnet-version": ["4.0.30319"]}, ["x-aspnet-version: 4.0.30319"]),
    ],
)
def test_version_leaks(headers: dict[str, list[str]], leaks: list[str]) -> None:
    assert version_leaks(headers) == leaks


def test_no_store_is_required_of_json_responses_only() -> None:
    assert is_api_response({"content-type": ["application/problem+json"]})
    assert not is_api_response({"content-type": ["text/html; charset=utf-8"]})
    assert has_no_store({"cache-control": ["private, no-store"]})
    assert not has_no_store({"cache-control": ["no-cache, max-age=0"]})


FULL = {
    **STRICT,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Type": "application/json",
}


@pytest.mark.parametrize(
    ("headers", "min_grade", "verdict", "words"),
    [
        (FULL, "B", Verdict.PASS, "grade A+ (120), every header test passed"),
        # a -5 failure alone: still A+, but WARN naming it
        (with_(FULL, X_Content_Type_Options=None), "B", Verdict.WARN, "X-Content-Type-Options"),
        (with_(FULL, Cache_Control=None), "B", Verdict.WARN, "no-store"),
        # a -10 failure fails even at A+
        (with_(FULL, Strict_Transport_Security="max-age=60"), "B", Verdict.FAIL, "HSTS"),
        (with_(FULL, Server="nginx/1.25.3"), "B", Verdict.FAIL, "discloses server: nginx/1.25.3"),
        # the grade floor: three -5s leave 85 (A-), under an A+ minimum
        (
            with_(
                FULL,
                X_Content_Type_Options=None,
                Referrer_Policy="unsafe-url",
                Cross_Origin_Resource_Policy="bogus",
            ),
            "A+",
            Verdict.FAIL,
            "under the minimum A+",
        ),
    ],
)
def test_judge_verdicts(headers: dict, min_grade: str, verdict: Verdict, words: str) -> None:
    h = normalise(headers)
    found, reason, _ = judge(score_headers(h), h, min_grade)
    assert found is verdict, reason
    assert words in reason
