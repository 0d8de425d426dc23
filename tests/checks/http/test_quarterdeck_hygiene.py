"""Quarterdeck's own API, served as ``serve`` serves it, passes ``http.compression``,
``http.input_validation`` and ``logs.correlation`` with their default parameters."""

from __future__ import annotations

import dataclasses
import json
import logging
import logging.handlers
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from checks import REGISTRY, ProbeContext, ProbeResult
from checks.probes import Scope, Target
from core.access import Role
from core.config import Settings
from core.events import Verdict
from core.logs import CorrelationFilter, json_lines_formatter

from ...console.api.conftest import Api, role_keys, serving


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with serving(settings, role_keys(settings)) as served:
        yield served


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The JSON-lines file ``configure_logging`` writes, attached to the root logger."""
    path = tmp_path / "quarterdeck.jsonl"
    handler = logging.handlers.RotatingFileHandler(path, encoding="utf-8")
    handler.setFormatter(json_lines_formatter())
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def target_ctx(ctx: ProbeContext, api: Api, **target: object) -> ProbeContext:
    fields: dict[str, object] = {"base_url": api.url, "api_key": api.keys[Role.ADMIN], **target}
    return dataclasses.replace(ctx, target=Target(**fields), scope=Scope.TARGET)  # type: ignore[arg-type]


async def run(name: str, ctx: ProbeContext) -> ProbeResult:
    spec = REGISTRY.get(name)
    return await spec.function(ctx, spec.params())


async def test_quarterdeck_compresses_its_large_reads(ctx: ProbeContext, api: Api) -> None:
    result = await run("http.compression", target_ctx(ctx, api))
    assert result.verdict is Verdict.PASS, result.reason
    assert {f["content_encoding"] for f in result.evidence["paths"]} == {"gzip"}


async def test_quarterdeck_refuses_every_malformed_input(ctx: ProbeContext, api: Api) -> None:
    result = await run("http.input_validation", target_ctx(ctx, api))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["operations"] >= 10
    assert "422" in result.evidence["statuses"]
    assert "POST /api/v1/risk/kill" in result.evidence["left_out"]["excluded"]
    # nor a login: its failures would spend the login allowance the auth probes need
    assert "POST /api/v1/auth/token" in result.evidence["left_out"]["excluded"]


async def test_quarterdeck_logs_the_request_id_as_json(
    ctx: ProbeContext, api: Api, log_file: Path
) -> None:
    spec = REGISTRY.get("logs.correlation")
    params = spec.params(path="/api/v1/auth/me")  # as the catalog item asks: /health is not logged
    result = await spec.function(target_ctx(ctx, api, log_path=log_file), params)
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["echoed"] is True
    (line,) = result.evidence["matching_lines"]
    record = json.loads(line)
    assert record["request_id"] == result.evidence["request_id"]
    assert (record["logger"], record["path"], record["status"]) == (
        "console.api.access", "/api/v1/auth/me", 200)  # fmt: skip


async def test_quarterdeck_replaces_a_request_id_that_is_not_one(api: Api) -> None:
    async with api.client() as client:
        kept = await client.get("/health", headers={"x-request-id": "qd-1234-abcd"})
        replaced = await client.get("/health", headers={"x-request-id": 'x" injected\tvalue'})
    assert kept.headers["x-request-id"] == "qd-1234-abcd"
    assert len(replaced.headers["x-request-id"]) == 16
