"""The OpenAPI document says what every operation may refuse, once for all routes.

Routes declare their own refusals (``responses={404: {"description": ...}}``); the
ones any operation can meet come from the edges and are added here: 400 (a body that
cannot be parsed), 401 (no valid credentials), 413 (too large a body), 422 (a bad
parameter or body), 429 (rate limit or lockout), 431 (too large a request head, a long
query string included) and 503 (the rate limits' shared store or the engine not
ready), and 404 where a path names a resource. Every refusal is then documented as
what it is, an ``application/problem+json`` document (``problems.ProblemDocument``),
in place of FastAPI's own 422 schema, which this API never answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from console.api.edges import MAX_HEAD, UNLIMITED_PATHS
from console.api.problems import MEDIA_TYPE, ProblemDocument

PREFIX = "/api/v1"
#: Operations anyone may call, without credentials.
PUBLIC = frozenset({"/api/v1/public/performance"})
REF = "#/components/schemas/{model}"
UNUSED = ("HTTPValidationError", "ValidationError")  # FastAPI's 422, replaced
EDGES = {
    400: "the body cannot be parsed: not JSON, not UTF-8, or broken multipart",
    401: "no valid credentials: a bearer token (or X-API-Key) that is missing, "
         "malformed, expired or revoked",
    404: "no such resource",
    413: "the request body is larger than QD_API_MAX_BODY_BYTES",
    422: "a bad parameter or body: `errors` names each field",
    429: "too many requests (see RateLimit-* and Retry-After), or locked out after 5 "
         "failed authentications",
    431: f"the request line and headers (a query string too) exceed {MAX_HEAD:,} bytes",
    503: "not ready yet (see Retry-After), or the rate limits' shared store is down",
}  # fmt: skip


def install(app: FastAPI) -> None:
    """Make ``app.openapi`` declare the refusals and their problem documents."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return declare_problems(generate())

    app.openapi = openapi  # type: ignore[method-assign]


def declare_problems(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with each operation's refusals declared as problem documents
    (idempotent: FastAPI keeps the document, and this runs on every request of it)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem = ProblemDocument.model_json_schema(ref_template=REF)
    schemas.update(problem.pop("$defs", {}))
    schemas[ProblemDocument.model_config["title"] or "Problem"] = problem
    content = {MEDIA_TYPE: {"schema": {"$ref": REF.format(model="Problem")}}}
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _edge_statuses(path, operation):
                responses.setdefault(str(status), {"description": EDGES[status]})
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = content
    for name in UNUSED:
        schemas.pop(name, None)
    return document


def _edge_statuses(path: str, operation: dict[str, Any]) -> list[int]:
    """The refusals ``operation`` at ``path`` may meet before or beside its route."""
    statuses = [431]
    if path not in UNLIMITED_PATHS:
        statuses += [429, 503]
    if not path.startswith(PREFIX):
        return statuses
    if path not in PUBLIC:
        statuses.append(401)
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        statuses.append(422)
    if "requestBody" in operation:
        statuses += [400, 413]
    if any(p.get("in") == "path" for p in parameters):
        statuses.append(404)
    return statuses
