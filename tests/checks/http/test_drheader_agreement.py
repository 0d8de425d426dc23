"""Our header verdicts against drHEADer's, an independent checker, rule by rule.

drHEADer (its Python API, default rules) reads the same response headers the
``http.security_headers`` probe scores. On every rule both judge, the two
must agree; where they do not, the reason is written next to the case.

Rules both judge, and what "passes" means on our side:

- Content-Security-Policy, Strict-Transport-Security, X-Frame-Options,
  X-Content-Type-Options, Referrer-Policy, Set-Cookie: the Observatory
  test's pass flag;
- Server and X-Powered-By: no version disclosure (OWASP);
- Cache-Control: ``no-store`` on an API (JSON) response (OWASP).

drHEADer also requires Pragma, X-XSS-Protection: 0 and (with cross-origin
isolation on) COOP/COEP; we judge none of those, so they are not compared.
"""

from __future__ import annotations

import httpx
import pytest
from drheader import Drheader

from checks.probes.http.headers import has_no_store, is_api_response, version_leaks
from checks.probes.http.observatory import normalise, score_headers

from .conftest import base_url
from .trading_api import GOOD_COOKIE, GOOD_HEADERS

RULES = {
    "Content-Security-Policy": "content-security-policy",
    "Strict-Transport-Security": "strict-transport-security",
    "X-Frame-Options": "x-frame-options",
    "X-Content-Type-Options": "x-content-type-options",
    "Referrer-Policy": "referrer-policy",
    "Set-Cookie": "cookies",
    "Server": None,
    "X-Powered-By": None,
    "Cache-Control": None,
}


def ours(headers: dict[str, list[str]]) -> dict[str, bool]:
    """Rule -> passes, as the security-headers probe judges it."""
    card = score_headers(headers)
    leaks = version_leaks(headers)
    verdicts = {rule: card.result(test).passed for rule, test in RULES.items() if test}
    verdicts["Server"] = not any(leak.startswith("server:") for leak in leaks)
    verdicts["X-Powered-By"] = not any(leak.startswith("x-powered-by:") for leak in leaks)
    verdicts["Cache-Control"] = not is_api_response(headers) or has_no_store(headers)
    return verdicts


def theirs(headers: dict[str, list[str]]) -> dict[str, bool]:
    """Rule -> passes, by drHEADer's default rules (a rule fails if any finding names it)."""
    flat: dict[str, object] = {
        name: ", ".join(values) for name, values in headers.items() if name != "set-cookie"
    }
    if "set-cookie" in headers:
        flat["set-cookie"] = headers["set-cookie"]  # drHEADer takes cookies as a list
    report = Drheader(headers=flat).analyze()
    failed = {finding["rule"].split(" - ")[0].lower() for finding in report}
    return {rule: rule.lower() not in failed for rule in RULES}


# --- The fixture's responses ------------------------------------------------------------

# (configuration, rule) -> why the two disagree there.
FIXTURE_DISAGREEMENTS = {
    ("headers_missing", "Referrer-Policy"): (
        # Observatory scores a missing Referrer-Policy 0 and passes it: browsers default
        # to strict-origin-when-cross-origin. drHEADer requires the header.
        (True, False)
    ),
}


@pytest.mark.parametrize(
    "config",
    ["good", "headers_missing", "weak_csp", "short_hsts", "insecure_cookie", "server_leak"],
)
async def test_fixture_headers_agree_with_drheader(api_root: str, config: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(base_url(api_root, config) + "/")
    headers = normalise(response.headers.multi_items())
    mine, other = ours(headers), theirs(headers)
    for rule in RULES:
        expected = FIXTURE_DISAGREEMENTS.get((config, rule))
        if expected is None:
            assert mine[rule] == other[rule], (
                f"{config}: {rule}: ours {mine[rule]}, drHEADer {other[rule]}"
            )
        else:
            assert (mine[rule], other[rule]) == expected, f"{config}: {rule}"
    if config == "good":
        assert all(mine.values()) and all(other.values())
    else:
        assert not all(mine.values()) and not all(other.values())


# --- Known disagreements, each pinned and explained ----------------------------------------

GOOD = normalise({**GOOD_HEADERS, "set-cookie": [GOOD_COOKIE], "content-type": "application/json"})


def changed(**headers: str | list[str] | None) -> dict[str, list[str]]:
    result = {name: list(values) for name, values in GOOD.items()}
    for name, value in headers.items():
        key = name.replace("_", "-")
        result.pop(key, None)
        if value is not None:
            result[key] = [value] if isinstance(value, str) else value
    return result


@pytest.mark.parametrize(
    ("headers", "rule", "mine", "other"),
    [
        # Observatory passes HSTS from 180 days (15552000 s); drHEADer's default rule wants
        # the value set to equal {max-age=31536000, includeSubDomains} exactly (so even
        # adding "preload" fails it).
        (
            changed(strict_transport_security="max-age=15552000"),
            "Strict-Transport-Security",
            True,
            False,
        ),
        # CSP frame-ancestors replaces X-Frame-Options for Observatory (and browsers);
        # drHEADer requires the X-Frame-Options header itself.
        (
            changed(
                x_frame_options=None,
                content_security_policy="default-src 'none'; frame-ancestors 'none'",
            ),
            "X-Frame-Options",
            True,
            False,
        ),
        # 'unsafe-inline' in style-src only: Observatory passes it (0); drHEADer forbids
        # 'unsafe-inline' anywhere in the policy.
        (
            changed(content_security_policy="default-src 'none'; style-src 'unsafe-inline'"),
            "Content-Security-Policy",
            True,
            False,
        ),
        # A broad script source (https:) is unsafe to Observatory; drHEADer only looks for
        # 'unsafe-inline'/'unsafe-eval' and a default-src of 'none' or 'self'.
        (
            changed(content_security_policy="default-src 'self'; script-src https:"),
            "Content-Security-Policy",
            False,
            True,
        ),
        # same-origin keeps URLs private (Observatory); it is not on drHEADer's list
        # (no-referrer, strict-origin, strict-origin-when-cross-origin).
        (changed(referrer_policy="same-origin"), "Referrer-Policy", True, False),
        # OWASP only asks that Server name no version; drHEADer wants no Server at all.
        (changed(server="nginx"), "Server", True, False),
        # no-store is what OWASP asks of API responses; drHEADer wants exactly
        # {no-store, max-age=0}.
        (changed(cache_control="no-store"), "Cache-Control", True, False),
        # Observatory needs HttpOnly on session cookies only; drHEADer on every cookie.
        (
            changed(set_cookie=[GOOD_COOKIE, "theme=dark; Secure; SameSite=Lax"]),
            "Set-Cookie",
            True,
            False,
        ),
    ],
)
def test_known_disagreements_are_as_explained(
    headers: dict[str, list[str]], rule: str, mine: bool, other: bool
) -> None:
    our_verdicts, their_verdicts = ours(headers), theirs(headers)
    assert (our_verdicts[rule], their_verdicts[rule]) == (mine, other)
    for other_rule in RULES.keys() - {rule}:  # everything else still agrees
        assert our_verdicts[other_rule] == their_verdicts[other_rule], other_rule
