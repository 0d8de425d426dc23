"""``http.compression``, ``http.input_validation`` and ``logs.correlation`` against real
servers on 127.0.0.1: the hygiene fixture API, and the trading fixture where it lacks
what a probe needs."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from checks import REGISTRY, ProbeContext, ProbeResult
from checks.probes import Target
from core.events import Verdict

from .conftest import MakeContext, serve
from .hygiene_api import HygieneServer
from .trading_api import VALID_API_KEY

PASS, WARN, FAIL, ERROR = Verdict.PASS, Verdict.WARN, Verdict.FAIL, Verdict.ERROR


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("target-logs")


@pytest.fixture(scope="module")
def hygiene(log_dir: Path) -> Iterator[tuple[str, HygieneServer]]:
    server = HygieneServer(log_dir)
    with serve(server.app) as root:
        yield root, server


@pytest.fixture
def hygiene_ctx(ctx: ProbeContext, hygiene: tuple[str, HygieneServer]) -> Any:
    root = hygiene[0]

    def make(base: str, **target: Any) -> ProbeContext:
        fields: dict[str, Any] = {"base_url": f"{root}/{base}", "api_key": VALID_API_KEY}
        return dataclasses.replace(ctx, target=Target(**{**fields, **target}))

    return make


async def run(name: str, ctx: ProbeContext, **params: Any) -> ProbeResult:
    spec = REGISTRY.get(name)
    result = await spec.function(ctx, spec.params.model_validate(params))
    assert result.reason and "\n" not in result.reason
    json.dumps(result.evidence)  # stored and published: plain JSON values
    return result


# --- http.compression --------------------------------------------------------------


async def test_compression_of_large_answers_passes_and_records_caching(hygiene_ctx: Any) -> None:
    result = await run("http.compression", hygiene_ctx("good"))
    assert result.verdict is PASS, result.reason
    found = {f["path"]: f for f in result.evidence["paths"]}
    assert {f["content_encoding"] for f in found.values()} == {"gzip"}
    assert found["/api/v1/openapi.json"]["caching"]["etag"] is True
    assert found["/api/v1/strategies"]["caching"]["cache_control"] == "no-store"
    assert found["/api/v1/strategies"]["bytes_on_wire"] < 1400
    sent = result.evidence["exchanges"][0]["request_headers"]
    assert sent["Accept-Encoding"] == "gzip, br" and sent["X-API-Key"] == "<redacted>"


async def test_uncompressed_large_answers_fail_naming_path_and_size(hygiene_ctx: Any) -> None:
    result = await run("http.compression", hygiene_ctx("plain"))
    assert result.verdict is FAIL
    assert "/api/v1/strategies (" in result.reason and "/api/v1/openapi.json (" in result.reason
    assert "bytes" in result.reason and "over 1,400 bytes" in result.reason


async def test_small_answers_are_not_judged_on_compression(make_ctx: MakeContext) -> None:
    result = await run("http.compression", make_ctx("good"), paths=["/api/v1/risk"])
    assert result.verdict is PASS and "nothing to compress" in result.reason


async def test_compression_of_a_path_that_does_not_answer_is_an_error(hygiene_ctx: Any) -> None:
    result = await run("http.compression", hygiene_ctx("good"),
                       paths=["/api/v1/strategies", "/api/v1/nowhere"])  # fmt: skip
    assert result.verdict is ERROR
    assert "GET /api/v1/nowhere answered 404" in result.reason


async def test_compression_without_a_target_is_an_error(ctx: ProbeContext) -> None:
    result = await run("http.compression", ctx)
    assert result.verdict is ERROR and result.evidence["setting"] == "base_url"


async def test_compression_of_a_target_down_fails(ctx: ProbeContext, closed_port_url: str) -> None:
    result = await run("http.compression", dataclasses.replace(ctx, target=Target(closed_port_url)))
    assert result.verdict is FAIL and "cannot connect" in result.reason


# --- http.input_validation -----------------------------------------------------------


async def test_a_validating_api_passes_and_excluded_paths_get_nothing(
    hygiene_ctx: Any, hygiene: tuple[str, HygieneServer]
) -> None:
    result = await run("http.input_validation", hygiene_ctx("good"),
                       openapi_path="/api/v1/openapi.json")  # fmt: skip
    assert result.verdict is PASS, result.reason
    evidence = result.evidence
    assert evidence["statuses"] == {"422": evidence["sent"]}
    assert evidence["operations"] == 3 and evidence["sent"] == evidence["cases"] == 5
    assert evidence["left_out"]["excluded"] == ["POST /api/v1/risk/kill"]
    assert evidence["left_out"]["nothing_invalid_to_send"] == ["GET /api/v1/strategies"]
    assert hygiene[1].apis["good"].kills == 0


@pytest.mark.parametrize(
    ("config", "problem"),
    [("sloppy", "answered 500"), ("traces", "answered 400 with a stack trace in the body"),
     ("lax", "answered 201: accepted")],
)  # fmt: skip
async def test_an_api_not_refusing_bad_input_fails_naming_what_was_sent(
    hygiene_ctx: Any, config: str, problem: str
) -> None:
    result = await run("http.input_validation", hygiene_ctx(config))
    assert result.verdict is FAIL
    assert f"POST /api/v1/orders with an empty object (required: symbol, qty): {problem}" in (
        result.reason)  # fmt: skip
    failed = {(f["operation"], f["sent"]) for f in result.evidence["failures"]}
    assert ("GET /api/v1/fills", "query parameter limit='abc' (a number)") in failed
    assert ("GET /api/v1/fills/{fill_id}", "path parameter fill_id='abc' (a number)") in failed
    assert ("POST /api/v1/orders", "symbol of 13 characters (at most 12)") in failed


async def test_max_operations_bounds_what_is_sent(hygiene_ctx: Any) -> None:
    result = await run("http.input_validation", hygiene_ctx("sloppy"), max_operations=1)
    assert result.evidence["operations"] == 1 and result.evidence["cases"] == 3
    assert result.evidence["left_out"]["over_max_operations"] == [
        "GET /api/v1/fills", "GET /api/v1/fills/{fill_id}"]  # fmt: skip


async def test_input_validation_without_an_openapi_document_is_an_error_naming_it(
    make_ctx: MakeContext,
) -> None:
    result = await run("http.input_validation", make_ctx("good"))  # the trading fixture has none
    assert result.verdict is ERROR
    assert "no OpenAPI document at /api/v1/openapi.json (GET answered 404)" in result.reason
    assert result.evidence["setting"] == "openapi_path"


async def test_input_validation_of_a_target_down_fails(
    ctx: ProbeContext, closed_port_url: str
) -> None:
    target = Target(closed_port_url)
    result = await run("http.input_validation", dataclasses.replace(ctx, target=target))
    assert result.verdict is FAIL


# --- logs.correlation ----------------------------------------------------------------


def log_ctx(hygiene_ctx: Any, log_dir: Path, mode: str, name: str) -> ProbeContext:
    (log_dir / name).touch()
    return hygiene_ctx(f"logs/{mode}/{name}", log_path=log_dir / name)


async def test_a_structured_line_with_the_id_and_no_secret_passes(
    hygiene_ctx: Any, log_dir: Path
) -> None:
    result = await run("logs.correlation", log_ctx(hygiene_ctx, log_dir, "json", "ok.jsonl"))
    assert result.verdict is PASS, result.reason
    evidence = result.evidence
    assert evidence["request_id"].startswith("qd-") and evidence["echoed"] is True
    (line,) = evidence["matching_lines"]
    assert json.loads(line)["request_id"] == evidence["request_id"]
    assert evidence["file"] == str(log_dir / "ok.jsonl") and evidence["size_bytes"] > 0


async def test_the_id_never_logged_fails(hygiene_ctx: Any, log_dir: Path) -> None:
    ctx = log_ctx(hygiene_ctx, log_dir, "none", "silent.jsonl")
    result = await run("logs.correlation", ctx, wait_seconds=0.3)
    assert result.verdict is FAIL and "did not appear in" in result.reason


async def test_a_plain_text_line_fails(hygiene_ctx: Any, log_dir: Path) -> None:
    result = await run("logs.correlation", log_ctx(hygiene_ctx, log_dir, "text", "plain.log"))
    assert result.verdict is FAIL and "is not a json record" in result.reason
    result = await run("logs.correlation", log_ctx(hygiene_ctx, log_dir, "text", "plain2.log"),
                       format="logfmt")  # fmt: skip
    assert result.verdict is FAIL and "is not a logfmt record" in result.reason


async def test_a_logged_api_key_fails_and_is_masked_in_evidence(
    hygiene_ctx: Any, log_dir: Path
) -> None:
    result = await run("logs.correlation", log_ctx(hygiene_ctx, log_dir, "leaky", "leak.jsonl"))
    assert result.verdict is FAIL and "the target's API key" in result.reason
    assert VALID_API_KEY not in json.dumps(result.evidence)
    assert result.evidence["leaks"][0]["line_from_end"] == 1


async def test_a_bearer_token_earlier_in_the_log_fails(hygiene_ctx: Any, log_dir: Path) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ0cmFkZXIifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    (log_dir / "bearer.jsonl").write_text(
        json.dumps({"message": "auth", "authorization": f"Bearer {token}"}) + "\n"
    )
    ctx = hygiene_ctx("logs/json/bearer.jsonl", log_path=log_dir / "bearer.jsonl")
    result = await run("logs.correlation", ctx)
    assert result.verdict is FAIL and "a JWT and a bearer token" in result.reason
    assert token not in json.dumps(result.evidence)
    assert "Bearer <redacted>" in result.evidence["leaks"][0]["excerpt"]


async def test_no_log_path_is_an_error_naming_the_setting(hygiene_ctx: Any) -> None:
    result = await run("logs.correlation", hygiene_ctx("logs/json/x.jsonl"))
    assert result.verdict is ERROR and "QD_CHECK_LOG_PATH" in result.reason


async def test_an_unreadable_log_is_an_error_naming_it(hygiene_ctx: Any, log_dir: Path) -> None:
    missing = log_dir / "absent" / "target.jsonl"
    result = await run("logs.correlation", hygiene_ctx("logs/json/x", log_path=missing))
    assert result.verdict is ERROR and str(missing) in result.reason
