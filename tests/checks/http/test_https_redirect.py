"""``http.https_redirect`` against a second plain-HTTP server that redirects (or not)."""

from __future__ import annotations

import dataclasses

import pytest

from checks import REGISTRY, ProbeContext, ProbeResult
from checks.probes import Target
from checks.probes.http.redirect import HttpsRedirectParams, default_http_url, judge_redirect
from core.events import Verdict

from .conftest import MakeContext


async def redirect_probe(ctx: ProbeContext, http_url: str | None = None) -> ProbeResult:
    return await REGISTRY.get("http.https_redirect").function(
        ctx, HttpsRedirectParams(http_url=http_url)
    )


@pytest.mark.parametrize(
    ("mode", "expected", "words"),
    [
        ("good", Verdict.PASS, "redirects (301) to https://127.0.0.1/"),
        ("offhost", Verdict.FAIL, "another host, www.other.example"),
        ("to_http", Verdict.FAIL, "not to https"),
        ("none", Verdict.FAIL, "served over plain HTTP (200)"),
    ],
)
async def test_redirect_front_gives_expected_verdict(
    ctx: ProbeContext, redirect_root: str, mode: str, expected: Verdict, words: str
) -> None:
    target = Target(base_url="https://127.0.0.1:8443")
    result = await redirect_probe(
        dataclasses.replace(ctx, target=target), f"{redirect_root}/{mode}/"
    )
    assert result.verdict is expected, result.reason
    assert words in result.reason
    assert result.evidence["exchanges"][0]["method"] == "GET"


async def test_http_url_alone_needs_no_base_url(ctx: ProbeContext, redirect_root: str) -> None:
    result = await redirect_probe(ctx, f"{redirect_root}/good/")
    assert result.verdict is Verdict.PASS, result.reason


async def test_plain_http_base_url_without_redirect_fails(make_ctx: MakeContext) -> None:
    ctx = make_ctx("good")  # the trading API itself is served over plain http
    result = await redirect_probe(ctx)
    # The base URL without its trailing slash meets Starlette's slash redirect: to http.
    assert result.verdict is Verdict.FAIL
    assert "(307) to http://" in result.reason and "not to https" in result.reason
    result = await redirect_probe(ctx, ctx.target.base_url + "/")
    assert result.verdict is Verdict.FAIL
    assert "served over plain HTTP (200)" in result.reason


async def test_nothing_listening_on_plain_http_warns(
    ctx: ProbeContext, closed_port_url: str
) -> None:
    target = Target(base_url="https://127.0.0.1:8443")
    result = await redirect_probe(dataclasses.replace(ctx, target=target), closed_port_url)
    assert result.verdict is Verdict.WARN
    assert "nothing answers plain HTTP" in result.reason


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://api.example:8443", "http://api.example"),
        ("https://api.example/prefix", "http://api.example/prefix"),
        ("http://api.example:8080", "http://api.example:8080"),
    ],
)
def test_default_http_url_is_base_on_http_port_80(base: str, expected: str) -> None:
    assert default_http_url(base) == expected


@pytest.mark.parametrize(
    ("status", "location", "expected"),
    [
        (308, "https://api.example/x", Verdict.PASS),
        (302, "https://API.example/", Verdict.PASS),  # host names are case-insensitive
        (303, "https://api.example/", Verdict.FAIL),  # not one of 301/302/307/308
        (301, "/login", Verdict.FAIL),  # relative: stays on http
        (301, None, Verdict.FAIL),
        (404, None, Verdict.FAIL),
    ],
)
def test_judge_redirect(status: int, location: str | None, expected: Verdict) -> None:
    assert judge_redirect("http://api.example/", status, location)[0] is expected
