"""Each HTTP probe against the fixture trading API: PASS when good, the right verdict when not."""

from __future__ import annotations

import dataclasses
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checks import REGISTRY, Checklist, ProbeContext, ProbeResult, run_checklist
from checks.probes import Target
from checks.probes.base import NO_TARGET
from checks.probes.http.auth import AuthParams
from checks.probes.http.client import ProbeClient, Unreachable
from checks.probes.http.headers import SecurityHeadersParams
from checks.probes.http.load import LoadParams
from checks.probes.http.lockout import LockoutParams
from checks.probes.http.rate_limit import RateLimitParams
from core.events import Verdict

from ..support import item
from .conftest import MakeContext
from .trading_api import VALID_API_KEY, issue_jwt

PASS, WARN, FAIL, ERROR = Verdict.PASS, Verdict.WARN, Verdict.FAIL, Verdict.ERROR

# The default load (200 requests, 20 at a time) queues behind the GIL in this one process
# (server thread and client share it): p95 lands over the 100 ms default bound. A smaller
# load keeps the default thresholds meaningful here; "slow" answers in 120 ms and must fail.
LIGHT_LOAD = {"requests": 40, "concurrency": 4}
SLOW_LOAD = {"requests": 8, "concurrency": 4}  # two rounds of 120 ms

CASES = [
    # http.health
    ("http.health", "good", {}, PASS),
    ("http.health", "good", {"expect_body_contains": '"ok"'}, PASS),
    ("http.health", "good", {"expect_body_contains": "all systems go"}, FAIL),
    ("http.health", "unhealthy", {}, FAIL),
    ("http.health", "slow", {"max_latency_ms": 60}, WARN),
    # http.auth
    ("http.auth", "good", {}, PASS),
    ("http.auth", "auth_bypass", {}, FAIL),
    ("http.auth", "long_jwt", {}, FAIL),
    # http.lockout
    ("http.lockout", "good", {}, PASS),
    ("http.lockout", "no_lockout", {}, FAIL),
    ("http.lockout", "good", {"lockout_after": 3, "max_attempts": 10}, WARN),  # locks after 5
    ("http.lockout", "good", {"login_path": "/api/v1/nothing-here"}, WARN),
    # http.rate_limit
    ("http.rate_limit", "good", {}, PASS),
    ("http.rate_limit", "no_rate_limit", {}, FAIL),
    ("http.rate_limit", "rate_limit_bare", {}, WARN),
    # http.security_headers
    ("http.security_headers", "good", {}, PASS),
    ("http.security_headers", "good", {"min_grade": "A+"}, PASS),
    ("http.security_headers", "headers_missing", {}, FAIL),
    ("http.security_headers", "weak_csp", {}, FAIL),
    ("http.security_headers", "short_hsts", {}, FAIL),
    ("http.security_headers", "insecure_cookie", {}, FAIL),
    ("http.security_headers", "server_leak", {}, FAIL),
    # http.cors
    ("http.cors", "good", {}, PASS),
    ("http.cors", "cors_wildcard", {}, WARN),
    ("http.cors", "cors_wildcard_credentials", {}, FAIL),
    ("http.cors", "cors_reflect", {}, FAIL),
    ("http.cors", "cors_reflect_credentials", {}, FAIL),
    ("http.cors", "cors_null", {}, FAIL),
    ("http.cors", "good", {"foreign_origin": "https://desk.example"}, FAIL),  # own origin, shown
    # http.metrics
    ("http.metrics", "good", {}, PASS),
    ("http.metrics", "good", {"required": ["qd_jobs_total", "qd_engine_up"]}, PASS),
    ("http.metrics", "good", {"required": ["qd_fills_total"]}, FAIL),
    ("http.metrics", "metrics_missing", {}, FAIL),
    ("http.metrics", "metrics_garbage", {}, FAIL),
    # http.load
    ("http.load", "good", LIGHT_LOAD, PASS),
    ("http.load", "slow", SLOW_LOAD, FAIL),
    ("http.load", "unhealthy", LIGHT_LOAD, FAIL),
    # http.error_leaks
    ("http.error_leaks", "good", {}, PASS),
    ("http.error_leaks", "debug_traces", {}, FAIL),
]


async def run(name: str, ctx: ProbeContext, **params: Any) -> ProbeResult:
    spec = REGISTRY.get(name)
    return await spec.function(ctx, spec.params.model_validate(params))


@pytest.mark.parametrize(
    ("name", "config", "params", "expected"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}-{i}") for i, case in enumerate(CASES)],
)
async def test_probe_on_configuration_gives_expected_verdict(
    make_ctx: MakeContext, name: str, config: str, params: dict[str, Any], expected: Verdict
) -> None:
    result = await run(name, make_ctx(config), **params)
    assert result.verdict is expected, result.reason
    assert result.reason and "\n" not in result.reason
    json.dumps(result.evidence)  # evidence is stored and published: plain JSON values
    exchanges = result.evidence.get("exchanges")
    if name not in {"http.load", "http.rate_limit"}:  # those summarise, not list, requests
        assert isinstance(exchanges, list) and exchanges, result.evidence
        first = exchanges[0]
        assert {"method", "url", "status", "response_headers", "elapsed_ms"} <= first.keys()


# --- What the evidence says, per probe -----------------------------------------------


async def test_auth_good_reports_refusals_and_token_lifetime(make_ctx: MakeContext) -> None:
    result = await run("http.auth", make_ctx("good"))
    assert set(result.evidence["refusals"].values()) == {401}
    assert len(result.evidence["refusals"]) == 5
    assert result.evidence["token_lifetime_s"] == 600
    sent = [e["request_headers"] for e in result.evidence["exchanges"]]
    assert VALID_API_KEY not in repr(sent)  # keys are masked in evidence
    assert {"X-API-Key": "<redacted>"} in sent


async def test_lockout_good_reports_the_failures_before_the_lock(make_ctx: MakeContext) -> None:
    result = await run("http.lockout", make_ctx("good", api_key=None))  # needs no key
    assert result.verdict is PASS, result.reason
    assert result.evidence["failures_before_lock"] == 5
    assert result.evidence["statuses"] == [401] * 5 + [429]
    assert result.evidence["retry_after"] == "300"
    assert [e["status"] for e in result.evidence["exchanges"]] == [401] * 5 + [429]


async def test_auth_on_a_locked_out_host_is_an_error_saying_so(make_ctx: MakeContext) -> None:
    ctx = make_ctx("lock_by_address")
    assert (await run("http.lockout", ctx)).verdict is PASS
    result = await run("http.auth", ctx)  # the same probe host, now refused every login
    assert result.verdict is ERROR
    assert "locked out" in result.reason and "retry after 300 s" in result.reason


async def test_auth_bypass_names_every_accepted_credential(make_ctx: MakeContext) -> None:
    result = await run("http.auth", make_ctx("auth_bypass"))
    for label in ("no credentials", "wrong API key", "expired JWT", "alg none", "malformed JWT"):
        assert label in result.reason


async def test_auth_long_jwt_reports_lifetime(make_ctx: MakeContext) -> None:
    result = await run("http.auth", make_ctx("long_jwt"))
    assert result.evidence["token_lifetime_s"] == 86_400
    assert "86400 s" in result.reason and "900 s" in result.reason


async def test_auth_reads_lifetime_from_a_jwt_given_as_key(make_ctx: MakeContext) -> None:
    token = issue_jwt("ops", 300)
    result = await run("http.auth", make_ctx("good", api_key=token))
    assert result.verdict is PASS, result.reason
    assert result.evidence["token_source"] == "target.api_key"
    assert result.evidence["token_lifetime_s"] == 300


async def test_auth_with_a_wrong_key_is_an_error_naming_the_key(make_ctx: MakeContext) -> None:
    result = await run("http.auth", make_ctx("good", api_key="not-the-key"))
    assert result.verdict is ERROR
    assert "target.api_key" in result.reason and "401" in result.reason


async def test_rate_limit_reports_the_429_and_its_headers(make_ctx: MakeContext) -> None:
    result = await run("http.rate_limit", make_ctx("good"))
    assert result.evidence["statuses"]["200"] >= 20  # the fixture's bucket holds 20
    assert result.evidence["statuses"]["429"] >= 1
    assert result.evidence["answers_before_first_429"] < 50
    assert result.evidence["429_headers"]["retry-after"] == "1"
    assert "ratelimit-policy" in result.evidence["429_headers"]


async def test_security_headers_reports_score_grade_and_tests(make_ctx: MakeContext) -> None:
    result = await run("http.security_headers", make_ctx("good"))
    # 100 + CSP default-src 'none' 10 + cookies 5 + frame-ancestors 5 + Referrer 5 + CORP 10
    assert (result.evidence["score"], result.evidence["grade"]) == (135, "A+")
    assert {t["test"] for t in result.evidence["tests"]} >= {
        "content-security-policy",
        "strict-transport-security",
        "x-frame-options",
        "x-content-type-options",
        "referrer-policy",
        "cookies",
    }
    assert "note" in result.evidence  # the fixture is plain http: the note says so


async def test_security_headers_missing_scores_d(make_ctx: MakeContext) -> None:
    result = await run("http.security_headers", make_ctx("headers_missing"))
    # 100 - CSP 25 - HSTS 20 - XFO 20 - nosniff 5 = 30, under 90 so no bonuses: D
    assert (result.evidence["score"], result.evidence["grade"]) == (30, "D")
    assert "under the minimum B" in result.reason
    assert result.evidence["api_response_without_no_store"] is True


async def test_security_headers_server_leak_names_the_headers(make_ctx: MakeContext) -> None:
    result = await run("http.security_headers", make_ctx("server_leak"))
    assert result.evidence["grade"] == "A+"  # the grade alone would pass
    assert result.evidence["version_leaks"] == [
        "x-powered-by: Starlette/1.10.0",
        "server: uvicorn/0.54.0",
    ]


async def test_cors_reflection_with_credentials_is_explained(make_ctx: MakeContext) -> None:
    result = await run("http.cors", make_ctx("cors_reflect_credentials"))
    assert "reflects the arbitrary origin https://evil.example" in result.reason
    assert "with credentials" in result.reason


async def test_cors_wildcard_warning_explains_why(make_ctx: MakeContext) -> None:
    result = await run("http.cors", make_ctx("cors_wildcard"))
    assert "lets any website read" in result.reason and "public data" in result.reason


async def test_metrics_garbage_reports_the_parse_error(make_ctx: MakeContext) -> None:
    result = await run("http.metrics", make_ctx("metrics_garbage"))
    assert "not Prometheus exposition format" in result.reason
    assert result.evidence["parse_error"]


async def test_load_reports_percentiles_and_error_rate(make_ctx: MakeContext) -> None:
    result = await run("http.load", make_ctx("slow"), **SLOW_LOAD)
    for key in ("p50_ms", "p95_ms", "p99_ms", "error_rate", "throughput_rps"):
        assert key in result.evidence
    assert result.evidence["p50_ms"] >= 120  # /health sleeps 120 ms in "slow"
    assert "p50" in result.reason
    unhealthy = await run("http.load", make_ctx("unhealthy"), **LIGHT_LOAD)
    assert unhealthy.evidence["error_rate"] == 1.0
    assert "error rate" in unhealthy.reason


async def test_error_leaks_debug_names_what_leaked(make_ctx: MakeContext) -> None:
    result = await run("http.error_leaks", make_ctx("debug_traces"))
    leaked = {leak["pattern"] for leaks in result.evidence["leaks"].values() for leak in leaks}
    assert {"debug flag", "framework debug page", "Python exception name"} <= leaked
    assert result.evidence["responses"]["malformed JSON"]["status"] == 500


# --- Settings missing, system down -------------------------------------------------------

HTTP_PROBES = [name for name in REGISTRY.names() if name.startswith("http.")]


def test_all_http_probes_are_registered_with_their_params() -> None:
    assert HTTP_PROBES == [
        "http.auth",
        "http.compression",
        "http.cors",
        "http.error_leaks",
        "http.health",
        "http.https_redirect",
        "http.input_validation",
        "http.load",
        "http.lockout",
        "http.metrics",
        "http.openapi",
        "http.rate_limit",
        "http.security_headers",
    ]
    defaults = {name: REGISTRY.get(name).params().model_dump() for name in HTTP_PROBES}
    assert defaults["http.health"] == {
        "path": "/health",
        "expect_status": 200,
        "expect_body_contains": None,
        "max_latency_ms": 500.0,
    }
    assert defaults["http.auth"] == {
        "protected_path": "/api/v1/portfolio",
        "login_path": "/api/v1/auth/token",
        "max_jwt_lifetime_s": 900,
    }
    assert defaults["http.lockout"] == {
        "login_path": "/api/v1/auth/token",
        "lockout_after": 5,
        "max_attempts": 10,
    }
    assert defaults["http.rate_limit"] == {"path": "/api/v1/risk", "burst": 50, "concurrency": 10}
    assert defaults["http.security_headers"] == {"path": "/", "min_grade": "B"}
    assert defaults["http.cors"] == {
        "path": "/api/v1/risk",
        "foreign_origin": "https://evil.example",
    }
    assert defaults["http.https_redirect"] == {"http_url": None}
    assert defaults["http.metrics"] == {"path": "/metrics", "required": []}
    assert defaults["http.load"] == {
        "path": "/health",
        "requests": 200,
        "concurrency": 20,
        "p50_ms": 50.0,
        "p95_ms": 100.0,
        "p99_ms": 200.0,
        "max_error_rate": 0.001,
    }
    assert defaults["http.error_leaks"] == {
        "path": "/api/v1/does-not-exist-qd-probe",
        "malformed_path": "/api/v1/jobs",
    }
    for name in HTTP_PROBES:
        assert REGISTRY.get(name).description  # a one-line summary for the checklist


@pytest.mark.parametrize(
    ("model", "params", "message"),
    [
        (LockoutParams, {"lockout_after": 10, "max_attempts": 10}, "must exceed lockout_after"),
        (SecurityHeadersParams, {"min_grade": "E"}, "min_grade"),
        (RateLimitParams, {"burst": 5, "concurrency": 10}, "exceeds burst"),
        (LoadParams, {"requests": 0}, "requests"),
        (AuthParams, {"max_jwt_lifetime": 900}, "Extra inputs"),
    ],
)
def test_bad_params_are_rejected_naming_the_field(
    model: type, params: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(params)


@pytest.mark.parametrize("name", HTTP_PROBES)
async def test_probe_without_base_url_is_an_error_naming_it(ctx: ProbeContext, name: str) -> None:
    result = await run(name, dataclasses.replace(ctx, target=Target(api_key="k")))
    assert result.verdict is ERROR
    assert result.reason == NO_TARGET


async def test_auth_on_a_missing_route_is_an_error_naming_the_param(make_ctx: MakeContext) -> None:
    result = await run("http.auth", make_ctx("good"), protected_path="/api/nothing-here")
    assert result.verdict is ERROR
    assert "404" in result.reason and "protected_path" in result.reason


async def test_auth_without_api_key_is_an_error_naming_it(make_ctx: MakeContext) -> None:
    result = await run("http.auth", make_ctx("good", api_key=None))
    assert result.verdict is ERROR
    assert result.reason == "target.api_key is not set"


async def test_missing_ca_file_is_an_error_naming_it(make_ctx: MakeContext, tmp_path: Path) -> None:
    result = await run("http.health", make_ctx("good", ca_file=tmp_path / "absent.pem"))
    assert result.verdict is ERROR
    assert result.reason.startswith("target.ca_file") and "does not exist" in result.reason


async def test_base_url_without_scheme_is_an_error(ctx: ProbeContext) -> None:
    target = Target(base_url="api.example:8443")
    result = await run("http.health", dataclasses.replace(ctx, target=target))
    assert result.verdict is ERROR and "target.base_url" in result.reason


@pytest.mark.parametrize("name", HTTP_PROBES)
async def test_probe_on_refused_connection_fails(
    ctx: ProbeContext, closed_port_url: str, name: str
) -> None:
    target = Target(base_url=closed_port_url, api_key="k")
    result = await run(name, dataclasses.replace(ctx, target=target))
    assert result.verdict is FAIL, result.reason
    assert "cannot connect" in result.reason
    assert result.evidence["url"].startswith(closed_port_url)


async def test_client_timeout_is_unreachable_not_a_hang() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        async with ProbeClient(Target(base_url=url), timeout=0.2) as http:
            with pytest.raises(Unreachable) as caught:
                await http.get("/health")
    assert caught.value.kind == "no answer in time"
    assert http.exchanges[0]["error"].startswith("ReadTimeout")


async def test_checklist_of_http_probes_runs_through_the_runner(make_ctx: MakeContext) -> None:
    items = [
        item("http.health", "http.health", expect_body_contains="ok"),
        item("http.headers", "http.security_headers", min_grade="A"),
        item("http.cors", "http.cors"),
        item("http.leaks", "http.error_leaks"),
        item("http.metrics", "http.metrics", required=["qd_engine_up"]),
    ]
    data = {"id": "http", "title": "HTTP", "description": "d", "items": items}
    checklist = Checklist.model_validate(data, context={"registry": REGISTRY})
    events: list[object] = []
    results = await run_checklist(checklist, make_ctx("good"), events.append, timeout=5.0)
    assert {key: r.verdict for key, r in results.items()} == dict.fromkeys(results, PASS)
    assert all(r.elapsed is not None for r in results.values())
