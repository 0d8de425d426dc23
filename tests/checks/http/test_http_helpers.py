"""The pure pieces of the HTTP probes: CORS judgement, leak patterns, JWT claims, percentiles."""

from __future__ import annotations

import pytest

from checks.probes.http.auth import forged_jwt, jwt_payload, token_lifetime
from checks.probes.http.client import (
    credential_headers,
    is_jwt,
    join_url,
    mask_request_headers,
    mask_set_cookie,
)
from checks.probes.http.config_leaks import find_leaks
from checks.probes.http.cors import judge_cors
from checks.probes.http.load import percentile
from core.events import Verdict

from .trading_api import issue_jwt

EVIL = "https://evil.example"


@pytest.mark.parametrize(
    ("origin", "allow_origin", "credentials", "verdict"),
    [
        (EVIL, None, None, Verdict.PASS),
        (EVIL, "https://desk.example", "true", Verdict.PASS),  # an allow-list at work
        (EVIL, "*", None, Verdict.WARN),
        (EVIL, "*", "true", Verdict.FAIL),
        (EVIL, EVIL, None, Verdict.FAIL),
        (EVIL, EVIL, "true", Verdict.FAIL),
        ("null", "null", None, Verdict.FAIL),
        ("null", "*", None, Verdict.WARN),
    ],
)
def test_judge_cors(
    origin: str, allow_origin: str | None, credentials: str | None, verdict: Verdict
) -> None:
    assert judge_cors(origin, allow_origin, credentials)[0] is verdict


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ('Traceback (most recent call last):\n  File "/app/main.py", line 3', "Python traceback"),
        ('  File "/srv/api/orders.py", line 88, in create', "stack frame"),
        ("json.decoder.JSONDecodeError: Expecting value", "qualified exception name"),
        ('{"error": "KeyError: \'qty\'"}', "Python exception name"),
        ("<title>Starlette Debugger</title>", "framework debug page"),
        ("You're seeing this error because you have DEBUG = True", "framework debug page"),
        ('{"detail": "Not Found", "debug": true}', "debug flag"),
        ("Exception\n\tat com.acme.Orders.create(Orders.java:42)", "Java/.NET stack frame"),
    ],
)
def test_leak_patterns_find_traces(text: str, pattern: str) -> None:
    assert pattern in {leak["pattern"] for leak in find_leaks(text)}


@pytest.mark.parametrize(
    "text",
    [
        '{"detail": "Not Found"}',
        '{"detail": "the body is not valid JSON"}',
        '{"error": "invalid_request", "debug": false}',
        "<h1>500 Internal Server Error</h1>",
    ],
)
def test_clean_error_bodies_have_no_leaks(text: str) -> None:
    assert find_leaks(text) == []


def test_jwt_claims_are_read_without_verifying() -> None:
    token = issue_jwt("trader", 600, now=1_700_000_000)
    assert is_jwt(token)
    claims = jwt_payload(token)
    assert (claims["iat"], claims["exp"]) == (1_700_000_000, 1_700_000_600)
    assert token_lifetime(claims, now=0) == (600.0, "exp - iat")
    assert token_lifetime({"exp": 1_000}, now=400) == (600.0, "exp - now (no iat claim)")
    assert token_lifetime({"sub": "x"}, now=0) == (None, "no exp claim")


def test_forged_tokens_are_jwts_no_server_issued() -> None:
    none_token = forged_jwt({"sub": "x", "exp": 1}, alg="none")
    assert none_token.endswith(".") and is_jwt(none_token)
    assert jwt_payload(forged_jwt({"exp": 5}))["exp"] == 5
    assert not is_jwt("qd-test-key") and not is_jwt("a.b.c")
    with pytest.raises(ValueError, match="three"):
        jwt_payload("not-a-jwt")


def test_credentials_are_sent_and_masked() -> None:
    assert credential_headers("plain-key") == {"X-API-Key": "plain-key"}
    token = issue_jwt("ops", 60)
    assert credential_headers(token) == {"Authorization": f"Bearer {token}"}
    masked = mask_request_headers({"Authorization": f"Bearer {token}", "X-API-Key": "k", "A": "b"})
    assert masked == {"Authorization": "Bearer <redacted>", "X-API-Key": "<redacted>", "A": "b"}
    assert mask_set_cookie("sid=secret; Secure; HttpOnly") == "sid=<redacted>; Secure; HttpOnly"


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("https://api.example", "/health", "https://api.example/health"),
        ("https://api.example/v1/", "/health", "https://api.example/v1/health"),
        ("https://api.example/v1", "health", "https://api.example/v1/health"),
        ("https://api.example", "http://other.example/x", "http://other.example/x"),
    ],
)
def test_join_url_keeps_the_base_path(base: str, path: str, url: str) -> None:
    assert join_url(base, path) == url


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    with pytest.raises(ValueError):
        percentile([], 50)
