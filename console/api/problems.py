"""Errors as JSON problem details (RFC 9457), never a trace.

Every refusal the API gives, whether raised by a route (``Problem``), by FastAPI's own
validation, by Starlette's routing (404, 405), by the command layer refusing the
caller's role (403, ``PermissionDenied``) or by a bug (500, answered by
``edges.Edges``), is one ``application/problem+json`` document: ``type``, ``title``,
``status``, ``detail`` and, for invalid input, ``errors`` naming each field. A 500 says
only that the request failed and which request id to quote; the trace goes to the log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from console.api.responses import JsonText
from core.access import PermissionDenied

MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """A refusal a route raises: its status, what went wrong, and headers to send."""

    def __init__(
        self, status: int, detail: str, *, headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:  # fmt: skip
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


class FieldError(BaseModel):
    field: str
    message: str


class ProblemDocument(BaseModel):
    """What every refusal answers (``application/problem+json``), for the OpenAPI
    document; a problem may carry more members (``action``, ``capability``; ``file``,
    ``row`` and ``column`` of a bad upload)."""

    model_config = ConfigDict(extra="allow", title="Problem")
    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


class ProblemResponse(JsonText):
    media_type = MEDIA_TYPE


def problem(
    status: int, detail: str, *, headers: Mapping[str, str] | None = None, **extra: Any
) -> ProblemResponse:
    """The problem document for ``status``."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
            "detail": detail, **extra}  # fmt: skip
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def invalid(field: str, message: str) -> Problem:
    """A 422 naming ``field`` (``body.grid``, ``query.checklist``), as FastAPI's own
    validation errors do, for a value only the domain can judge."""
    name = field.partition(".")[2] or field
    detail = message if message.startswith((f"{field}:", f"{name}:")) else f"{field}: {message}"
    return Problem(422, detail, errors=[{"field": field, "message": message}])


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as ``{"field": "body.grid.fast", "message": ...}``."""
    return [{"field": ".".join(str(part) for part in error.get("loc", ())),
             "message": str(error.get("msg", "invalid"))} for error in errors]  # fmt: skip


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem document."""

    async def raised(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, Problem)
        return problem(exc.status, exc.detail, headers=exc.headers, **exc.extra)

    async def http_error(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, HTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        return problem(exc.status_code, detail, headers=exc.headers)

    async def invalid(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc.errors())
        first = errors[0] if errors else {"field": "request", "message": "invalid"}
        return problem(422, f"{first['field']}: {first['message']}", errors=errors)

    async def permission_denied(request: Request, exc: Exception) -> ProblemResponse:
        """The command layer refused the caller's role (and audited ``denied.<action>``)."""
        assert isinstance(exc, PermissionDenied)
        return problem(403, exc.reason, action=exc.action, capability=exc.capability.value)

    app.add_exception_handler(Problem, raised)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(PermissionDenied, permission_denied)
