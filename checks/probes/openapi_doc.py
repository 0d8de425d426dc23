"""The target's API reference: an OpenAPI 3 document in which every operation says what
it does, what it answers and how it refuses, a human docs page beside it, and the
version it documents the one the target runs.
"""

from __future__ import annotations

import json
from typing import Any

from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.http.client import ProbeClient, body_excerpt, run_http_probe
from checks.probes.reach import OutOfReach
from checks.probes.registry import probe
from core.events import Verdict

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: Operations named in a FAIL's reason; the evidence lists every one.
SHOWN = 5


class OpenApiParams(ProbeParams):
    #: The OpenAPI document (Quarterdeck's is under its versioned API).
    path: str = "/api/v1/openapi.json"
    #: The human docs page (Swagger UI); empty: not checked.
    docs_path: str = "/api/v1/docs"
    #: A JSON document whose ``version`` the OpenAPI ``info.version`` must equal, when it
    #: reports one; empty: not checked.
    version_path: str = "/health"


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def document_problems(document: object) -> list[str]:
    """What keeps ``document`` from being a valid OpenAPI 3 document; empty if nothing."""
    if not isinstance(document, dict):
        return ["it is not a JSON object"]
    problems: list[str] = []
    if not str(document.get("openapi", "")).startswith("3."):
        problems.append(f"openapi is {document.get('openapi')!r}, not 3.x")
    info = document.get("info")
    info = info if isinstance(info, dict) else {}
    problems += [f"info.{key} is missing" for key in ("title", "version")
                 if not _is_text(info.get(key))]  # fmt: skip
    paths = document.get("paths")
    if not isinstance(paths, dict) or not paths:
        problems.append("it has no paths")
    return problems


def undocumented(paths: dict[str, Any]) -> list[str]:
    """Each operation lacking a summary (or description), a 2xx response or an error
    response, as ``"GET /path: no ..."``."""
    found: list[str] = []
    for path, item in paths.items():
        for method in METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if not isinstance(operation, dict):
                continue
            codes = [str(code).upper() for code in operation.get("responses") or {}]
            missing = [what for what, present in (
                ("summary", _is_text(operation.get("summary"))
                 or _is_text(operation.get("description"))),
                ("2xx response", any(code.startswith("2") for code in codes)),
                ("error response", any(code[0] in "45" or code == "DEFAULT" for code in codes)),
            ) if not present]  # fmt: skip
            if missing:
                found.append(f"{method.upper()} {path}: no {', no '.join(missing)}")
    return found


async def _document(http: ProbeClient, path: str) -> tuple[object, str | None]:
    """The parsed document at ``path`` and why it cannot be judged (None: it can)."""
    response = await http.get(path, headers=http.api_key_headers())
    if response.status_code == 404:
        raise OutOfReach(f"the target has no OpenAPI document at {path} (404): give the "
                         "item its path")  # fmt: skip
    if response.status_code in (401, 403):
        raise OutOfReach(f"GET {path} refused the check's key ({response.status_code})",
                         "api_key")  # fmt: skip
    if response.status_code != 200:
        return None, f"GET {path} answered {response.status_code}: {body_excerpt(response)}"
    try:
        return response.json(), None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, f"GET {path} did not answer JSON: {body_excerpt(response)}"


async def _reported_version(http: ProbeClient, path: str) -> str | None:
    """The ``version`` the JSON document at ``path`` reports, if it reports one."""
    response = await http.get(path, headers=http.api_key_headers())
    try:
        body = response.json() if response.status_code == 200 else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    version = body.get("version") if isinstance(body, dict) else None
    return str(version) if version is not None else None


@probe("http.openapi", scopes=(Scope.TARGET,), params=OpenApiParams, needs=("base_url",))
async def openapi(ctx: ProbeContext, params: OpenApiParams) -> ProbeResult:
    """The target publishes a complete OpenAPI 3 document and a human docs page.

    Every operation has a summary (or description), a 2xx response and its error
    responses; the documented version is the one the target reports running, if it does."""

    async def body(http: ProbeClient) -> ProbeResult:
        document, unreadable = await _document(http, params.path)
        evidence: dict[str, object] = {"path": params.path}
        if unreadable:
            return ProbeResult(Verdict.FAIL, unreadable, evidence)
        problems = document_problems(document)
        if problems:
            evidence["problems"] = problems
            return ProbeResult(Verdict.FAIL, f"{params.path} is not a valid OpenAPI 3 "
                               f"document: {'; '.join(problems)}", evidence)  # fmt: skip
        assert isinstance(document, dict)
        paths: dict[str, Any] = document["paths"]
        lacking = undocumented(paths)
        operations = sum(1 for item in paths.values() if isinstance(item, dict)
                         for method in METHODS if method in item)  # fmt: skip
        version = document["info"]["version"]
        evidence.update({"openapi": document["openapi"], "title": document["info"]["title"],
                         "version": version, "operations": operations,
                         "undocumented": lacking})  # fmt: skip
        failures: list[str] = []
        if lacking:
            more = f" and {len(lacking) - SHOWN} more" if len(lacking) > SHOWN else ""
            failures.append(f"{len(lacking)} of {operations} operation(s) undocumented: "
                            f"{'; '.join(lacking[:SHOWN])}{more}")  # fmt: skip
        if params.docs_path:
            page = await http.get(params.docs_path)
            kind = page.headers.get("content-type", "")
            evidence["docs"] = {"path": params.docs_path, "status": page.status_code,
                                "content_type": kind}  # fmt: skip
            if page.status_code != 200 or not kind.startswith("text/html"):
                failures.append(f"the docs page {params.docs_path} answered "
                                f"{page.status_code} {kind or 'without a content type'}, "
                                "not 200 HTML")  # fmt: skip
        if failures:
            return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
        running = await _reported_version(http, params.version_path) if params.version_path \
            else None  # fmt: skip
        evidence["reported_version"] = running
        if running is not None and running != version:
            reason = (f"{params.path} documents version {version}, but "
                      f"{params.version_path} reports {running}")  # fmt: skip
            return ProbeResult(Verdict.WARN, reason, evidence)
        reason = f"{document['info']['title']} {version}: all {operations} operations documented"
        return ProbeResult(Verdict.PASS, reason, evidence)

    return await run_http_probe(ctx.target, body, breakers=ctx.breakers)
