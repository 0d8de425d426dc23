"""``http.compression``: the larger read responses come back compressed.

Compression is where an API's bytes pay most for the least work: a JSON list or an
OpenAPI document shrinks five- to tenfold. Under ``min_bytes`` (about one TCP
segment) it pays nothing, so smaller answers are not judged. Whether the answers can
be cached (``ETag``, ``Last-Modified``, ``Cache-Control``) is recorded beside the
verdict: an API answering account data rightly says ``no-store``, so caching is a
reviewer's call, not a rule.
"""

from __future__ import annotations

import httpx
from pydantic import Field

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, run_http_probe
from checks.probes.registry import probe
from core.events import Verdict

ACCEPT_ENCODING = "gzip, br"
#: Content codings that count as compressed (``deflate`` is rare, but compressed too).
COMPRESSED = frozenset({"gzip", "br", "zstd", "deflate"})
EVIDENCE_HEADERS = ("content-type", "content-encoding", "content-length", "vary",
                    "etag", "last-modified", "cache-control")  # fmt: skip


class CompressionParams(ProbeParams):
    #: The API's larger reads: its strategy list and its OpenAPI document.
    paths: list[str] = Field(
        default_factory=lambda: ["/api/v1/strategies", "/api/v1/openapi.json"], min_length=1
    )
    min_bytes: int = Field(default=1400, ge=0)


def content_codings(response: httpx.Response) -> list[str]:
    """The response's content codings, outermost last (``identity`` left out)."""
    value = response.headers.get("content-encoding", "")
    return [
        c.strip().lower() for c in value.split(",") if c.strip().lower() not in ("", "identity")
    ]


def caching(response: httpx.Response) -> dict[str, object]:
    """What the response says about caching (informational)."""
    return {
        "etag": "etag" in response.headers,
        "last_modified": "last-modified" in response.headers,
        "cache_control": response.headers.get("cache-control"),
    }


def examine(path: str, response: httpx.Response, min_bytes: int) -> dict[str, object]:
    """One path's finding: ``verdict`` is pass, fail (large and sent as is) or
    unjudged (not a success: wrong path or credentials)."""
    codings = content_codings(response)
    compressed = any(c in COMPRESSED for c in codings)
    wire = response.num_bytes_downloaded
    finding: dict[str, object] = {
        "path": path,
        "status": response.status_code,
        "content_encoding": ", ".join(codings) or None,
        "bytes_on_wire": wire,
        "caching": caching(response),
    }
    if not compressed:
        finding["bytes"] = len(response.content)
    if not response.is_success:
        finding["verdict"] = "unjudged"
    elif compressed or len(response.content) <= min_bytes:
        finding["verdict"] = "pass"
    else:
        finding["verdict"] = "fail"
    return finding


def judge(findings: list[dict[str, object]], min_bytes: int) -> tuple[Verdict, str]:
    """FAIL naming each large answer sent uncompressed; else ERROR naming each path
    that did not answer 2xx; else PASS (pure)."""
    failed = [f for f in findings if f["verdict"] == "fail"]
    unjudged = [f for f in findings if f["verdict"] == "unjudged"]
    not_judged = "; ".join(f"GET {f['path']} answered {f['status']}, not judged" for f in unjudged)
    if failed:
        named = ", ".join(f"{f['path']} ({f['bytes']:,} bytes)" for f in failed)
        reason = f"sent uncompressed though over {min_bytes:,} bytes: {named}"
        return Verdict.FAIL, "; ".join(filter(None, [reason, not_judged]))
    if unjudged:
        return Verdict.ERROR, f"{not_judged}: give paths that answer reads (and the API key)"
    compressed = [f for f in findings if f["content_encoding"]]
    if not compressed:
        return Verdict.PASS, f"no answer over {min_bytes:,} bytes: nothing to compress"
    named = ", ".join(f"{f['path']} ({f['content_encoding']})" for f in compressed)
    return Verdict.PASS, f"compressed: {named}"


@probe("http.compression", scopes=(Scope.TARGET,), params=CompressionParams, needs=("base_url",))
async def compression(ctx: ProbeContext, params: CompressionParams) -> ProbeResult:
    """Each of ``paths`` larger than ``min_bytes`` comes back gzip-, br- or zstd-compressed.

    One GET per path with ``Accept-Encoding: gzip, br`` (and the target's API key,
    if it has one). FAIL names each path answered uncompressed over ``min_bytes``,
    with its size; ERROR names a path that answered no 2xx (so could not be judged).
    Evidence per path: status, coding, bytes, and ETag / Last-Modified /
    Cache-Control (informational).
    """

    async def body(http: ProbeClient) -> ProbeResult:
        headers = {"Accept-Encoding": ACCEPT_ENCODING, **http.api_key_headers()}
        findings = []
        for path in params.paths:
            response = await http.get(path, headers=headers, evidence_headers=EVIDENCE_HEADERS)
            findings.append(examine(path, response, params.min_bytes))
        verdict, reason = judge(findings, params.min_bytes)
        evidence = {"min_bytes": params.min_bytes, "paths": findings, "exchanges": http.exchanges}
        return ProbeResult(verdict, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers)
