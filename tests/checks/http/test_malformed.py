"""The malformed requests read from an OpenAPI document: each invalid by the document,
none for an operation that declares nothing invalid."""

from __future__ import annotations

import json
from typing import Any

from checks.probes.http.malformed import LARGE_ID, PLACEHOLDER, Document, cases_for


def sent(document: dict[str, Any], oversize: int = 50) -> dict[str, list[tuple[str, str]]]:
    """Each operation's cases as (target, what was sent)."""
    doc = Document(document)
    found: dict[str, list[tuple[str, str]]] = {}
    for operation in doc.operations():
        cases = cases_for(doc, operation, oversize)
        found[f"{operation.method} {operation.path}"] = [(c.target, c.sent) for c in cases]
    return found


def body_op(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"requestBody": {"content": {"application/json": {"schema": schema}}}, **extra}


def test_an_unbounded_string_is_sent_long_only_where_another_required_field_is_missing() -> None:
    lone = {"type": "object", "required": ["reason"],
            "properties": {"reason": {"type": "string"}}}  # fmt: skip
    pair = {"type": "object", "required": ["reason", "qty"],
            "properties": {"reason": {"type": "string"}, "qty": {"type": "integer"}}}  # fmt: skip
    found = sent({"paths": {"/a": {"post": body_op(lone)}, "/b": {"post": body_op(pair)}}})
    assert [what for _, what in found["POST /a"]] == [
        "a JSON array where the schema wants object",
        "an empty object (required: reason)",
    ]
    assert found["POST /b"][-1][1] == (
        "reason of 50 characters, without the other required properties")  # fmt: skip


def test_refs_all_of_and_nullable_numbers_are_followed() -> None:
    document = {
        "paths": {
            "/jobs/{job_id}": {
                "parameters": [{"name": "job_id", "in": "path", "schema": {"type": "integer"}}],
                "put": body_op({"allOf": [{"$ref": "#/components/schemas/Job"}]}, parameters=[
                    {"name": "page", "in": "query", "required": True,
                     "schema": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}]),
            },
        },
        "components": {"schemas": {"Job": {"required": ["kind"],
                                           "properties": {"kind": {"type": "string"}}}}},
    }  # fmt: skip
    cases = sent(document)["PUT /jobs/{job_id}"]
    assert (f"/jobs/{LARGE_ID}", "an empty object (required: kind)") in cases
    assert ("/jobs/abc", "path parameter job_id='abc' (a number)") in cases
    assert (f"/jobs/{LARGE_ID}?page=abc", "query parameter page='abc' (a number)") in cases
    assert (f"/jobs/{LARGE_ID}", "no required query parameter (page)") in cases


def test_nothing_is_sent_where_nothing_declared_is_invalid() -> None:
    document = {
        "servers": [{"url": "/api"}],
        "paths": {
            "/things/{name}": {
                "get": {
                    "parameters": [{"name": "name", "in": "path", "schema": {"type": "string"}}]
                },
                "delete": {"parameters": [{"name": "name", "in": "path"}]},
                "post": body_op({}),  # any JSON at all
                "patch": {"requestBody": {"content": {"text/csv": {}}}},
            },
            "/labels": {"post": body_op({"type": "array", "items": {"type": "string"}})},
        },
    }
    found = sent(document)
    assert found.pop("POST /api/labels") == [
        ("/api/labels", "a JSON object where the schema wants array")]  # fmt: skip
    assert all(cases == [] for cases in found.values()), found


def test_a_bounded_query_string_is_sent_one_over_its_bound() -> None:
    document = {"paths": {"/search": {"get": {"parameters": [
        {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 3}}]}}}}  # fmt: skip
    doc = Document(document)
    (case,) = cases_for(doc, next(doc.operations()), 10)
    assert case.target == "/search?q=xxxx" and case.body is None
    assert PLACEHOLDER not in case.target
    assert json.dumps(case.sent)
