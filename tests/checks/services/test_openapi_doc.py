"""http.openapi against a real Quarterdeck serving its API on 127.0.0.1, and against
documents of a static file server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from checks.probes import REGISTRY, ProbeContext, Scope, Target
from checks.probes.openapi_doc import OpenApiParams, document_problems, openapi, undocumented
from checks.runner import run_probe_named
from core import __version__
from core.config import Settings
from core.events import Verdict
from tests.console.api.conftest import Api, role_keys, serving

#: An operation documenting its summary, success and refusals, and one documenting none.
PATHS = {
    "/good": {"get": {"summary": "Good", "responses": {"200": {}, "404": {}}}},
    "/bad": {"post": {"responses": {"201": {}}}, "parameters": []},
}


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    async with serving(settings, role_keys(settings)) as served:
        yield served


def aimed_at(settings: Settings, base_url: str) -> ProbeContext:
    return ProbeContext(settings, None, "live", Target(base_url=base_url, api_key="a-key"),  # type: ignore[arg-type]
                        scope=Scope.TARGET)  # fmt: skip


def served(static_site: str, tmp_path: Path, name: str, document: object) -> str:
    """``document`` as a file of the static site (its root is ``tmp_path/site``); its URL."""
    (tmp_path / "site" / name).write_text(json.dumps(document))
    return f"{static_site}/{name}"


async def test_quarterdeck_s_reference_is_complete_and_current(api: Api) -> None:
    ctx = aimed_at(api.deck.settings, api.url)
    result = await openapi(ctx, OpenApiParams())
    assert result.verdict is Verdict.PASS, result.reason
    evidence = result.evidence
    assert (evidence["title"], evidence["version"]) == ("Quarterdeck", __version__)
    assert evidence["undocumented"] == []
    assert evidence["docs"] == {"path": "/api/v1/docs", "status": 200,
                                "content_type": "text/html; charset=utf-8"}  # fmt: skip
    assert evidence["reported_version"] is None  # its /health reports none
    assert result.reason == f"Quarterdeck {__version__}: all {evidence['operations']} " \
        "operations documented"  # fmt: skip


async def test_a_missing_docs_page_fails(api: Api) -> None:
    result = await openapi(aimed_at(api.deck.settings, api.url),
                           OpenApiParams(docs_path="/api/v1/manual"))  # fmt: skip
    assert result.verdict is Verdict.FAIL
    assert result.reason == ("the docs page /api/v1/manual answered 404 application/problem+json,"
                             " not 200 HTML")  # fmt: skip


async def test_another_running_version_warns(api: Api, static_site: str, tmp_path: Path) -> None:
    version_url = served(static_site, tmp_path, "version.json", {"version": "9.9.9"})
    result = await openapi(aimed_at(api.deck.settings, api.url),
                           OpenApiParams(version_path=version_url))  # fmt: skip
    assert result.verdict is Verdict.WARN
    assert result.reason == (f"/api/v1/openapi.json documents version {__version__}, but "
                             f"{version_url} reports 9.9.9")  # fmt: skip
    assert result.evidence["reported_version"] == "9.9.9"


async def test_undocumented_operations_fail_naming_each(
    settings: Settings, static_site: str, tmp_path: Path
) -> None:
    document = {"openapi": "3.1.0", "info": {"title": "T", "version": "1"}, "paths": PATHS}
    url = served(static_site, tmp_path, "openapi.json", document)
    params = OpenApiParams(path=url, docs_path="", version_path="")
    result = await openapi(aimed_at(settings, static_site), params)
    assert result.verdict is Verdict.FAIL
    assert result.reason == ("1 of 2 operation(s) undocumented: POST /bad: no summary, "
                             "no error response")  # fmt: skip


def test_what_is_not_an_openapi_3_document_is_named() -> None:
    assert document_problems({"swagger": "2.0", "info": {"title": "T"}, "paths": {}}) == [
        "openapi is None, not 3.x", "info.version is missing", "it has no paths"]  # fmt: skip
    assert document_problems([]) == ["it is not a JSON object"]
    assert (
        undocumented({"/x": {"get": {"description": "d", "responses": {"2XX": {}, "default": {}}}}})
        == []
    )


async def test_a_swagger_2_document_fails(
    settings: Settings, static_site: str, tmp_path: Path
) -> None:
    url = served(static_site, tmp_path, "swagger.json", {"swagger": "2.0", "paths": PATHS})
    result = await openapi(aimed_at(settings, static_site), OpenApiParams(path=url))
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith(f"{url} is not a valid OpenAPI 3 document: openapi is None")


async def test_no_document_is_an_error_naming_the_path(
    settings: Settings, static_site: str
) -> None:
    result = await run_probe_named("http.openapi", {}, aimed_at(settings, static_site),
                                   REGISTRY, 30.0)  # fmt: skip
    assert result.verdict is Verdict.ERROR
    assert result.reason.startswith("the target has no OpenAPI document at "
                                    "/api/v1/openapi.json (404)")  # fmt: skip
