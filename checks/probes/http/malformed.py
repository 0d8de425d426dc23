"""Malformed requests for an API's operations, read from its OpenAPI document (pure).

Every request built here is invalid by the document's own schema, so an API that
validates its input refuses it before acting: a JSON body of a type the schema does
not admit, an object without its required properties, a string longer than its
``maxLength`` (or a long one in a body already missing a required property), a
number parameter given ``"abc"``, a required query parameter left out. An operation
with nothing it declares invalid (a GET of a string id, a POST of an optional body
with no bounds) gets no request: anything sent there could be valid, and acted on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

METHODS = ("get", "post", "put", "patch", "delete")
NOT_A_NUMBER = "abc"
#: What fills a string path parameter when the request is invalid elsewhere.
PLACEHOLDER = "qd-probe-nonexistent"
#: What fills an integer path parameter without a declared maximum: valid, and no row's id.
LARGE_ID = 2_147_483_647

Schema = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Case:
    """One malformed request: ``target`` is the path with its query string filled in."""

    method: str
    path: str  # the document's path template
    target: str
    sent: str  # what is wrong with it, for the reader
    body: bytes | None = None

    @property
    def operation(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    spec: Schema


class Document:
    """An OpenAPI 3 document, with its ``$ref``s followed on demand."""

    def __init__(self, document: Schema) -> None:
        self.document = document

    def resolve(self, schema: Any, depth: int = 0) -> Schema:
        """``schema`` with its (local) ``$ref`` followed; ``{}`` (anything) when it
        cannot be followed."""
        if not isinstance(schema, Mapping):
            return {}
        ref = schema.get("$ref")
        if not isinstance(ref, str):
            return schema
        if depth > 20 or not ref.startswith("#/"):
            return {}
        node: Any = self.document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, Mapping) else None
        return self.resolve(node, depth + 1)

    def types(self, schema: Any) -> frozenset[str] | None:
        """The JSON types ``schema`` admits; None when it admits any (or cannot tell)."""
        resolved = self.resolve(schema)
        declared = resolved.get("type")
        if isinstance(declared, str):
            return frozenset({declared})
        if isinstance(declared, list):
            return frozenset(t for t in declared if isinstance(t, str))
        for combiner in ("anyOf", "oneOf"):
            members = resolved.get(combiner)
            if isinstance(members, list) and members:
                admitted: set[str] = set()
                for member in members:
                    kinds = self.types(member)
                    if kinds is None:
                        return None
                    admitted |= kinds
                return frozenset(admitted)
        every = resolved.get("allOf")
        if isinstance(every, list):
            for member in every:
                kinds = self.types(member)
                if kinds is not None:
                    return kinds
        if "properties" in resolved or "required" in resolved:
            return frozenset({"object"})
        return None

    def object_shape(self, schema: Any) -> tuple[dict[str, Schema], list[str]]:
        """An object schema's properties (resolved) and required names, ``allOf`` merged."""
        resolved = self.resolve(schema)
        properties = {name: self.resolve(value)
                      for name, value in (resolved.get("properties") or {}).items()}  # fmt: skip
        required = [name for name in resolved.get("required") or [] if isinstance(name, str)]
        for member in resolved.get("allOf") or []:
            more, needed = self.object_shape(member)
            properties.update(more)
            required += needed
        return properties, required

    def operations(self) -> Iterator[Operation]:
        """Each operation, in the document's order, with its path's parameters merged in."""
        prefix = server_prefix(self.document)
        for path, item in (self.document.get("paths") or {}).items():
            if not isinstance(item, Mapping):
                continue
            shared = item.get("parameters") or []
            for method in METHODS:
                spec = item.get(method)
                if isinstance(spec, Mapping):
                    merged = {**spec, "parameters": [*shared, *(spec.get("parameters") or [])]}
                    yield Operation(method.upper(), prefix + path, merged)


def server_prefix(document: Schema) -> str:
    """The path of the document's first server (``/api`` of ``servers: [{url: /api}]``)."""
    servers = document.get("servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], Mapping):
        return ""
    return urlsplit(str(servers[0].get("url", ""))).path.rstrip("/")


def cases_for(document: Document, operation: Operation, oversize: int) -> list[Case]:
    """The malformed requests for one operation (none when it declares nothing invalid)."""
    parameters = [document.resolve(p) for p in operation.spec.get("parameters") or []]
    path_params = [p for p in parameters if p.get("in") == "path"]
    query_params = [p for p in parameters if p.get("in") == "query"]
    filled = fill_path(document, operation.path, path_params)

    def case(sent: str, *, path: str = filled, query: Mapping[str, str] | None = None,
             body: object = None) -> Case:  # fmt: skip
        target = path + (f"?{urlencode(query)}" if query else "")
        raw = None if body is None else json.dumps(body).encode()
        return Case(operation.method, operation.path, target, sent, raw)

    cases = [case(sent, body=body) for sent, body in body_cases(document, operation, oversize)]
    for param in path_params:
        if is_number(document, param):
            path = fill_path(document, operation.path, path_params, {param["name"]: NOT_A_NUMBER})
            cases.append(case(f"path parameter {param['name']}={NOT_A_NUMBER!r} (a number)",
                              path=path))  # fmt: skip
    for param in query_params:
        name = str(param.get("name"))
        if is_number(document, param):
            cases.append(case(f"query parameter {name}={NOT_A_NUMBER!r} (a number)",
                              query={name: NOT_A_NUMBER}))  # fmt: skip
        limit = document.resolve(param.get("schema")).get("maxLength")
        if isinstance(limit, int) and is_string(document, param):
            cases.append(case(f"query parameter {name} of {limit + 1} characters (at most "
                              f"{limit})", query={name: "x" * (limit + 1)}))  # fmt: skip
    if any(p.get("required") for p in query_params):
        names = ", ".join(str(p.get("name")) for p in query_params if p.get("required"))
        cases.append(case(f"no required query parameter ({names})"))
    return cases


def body_cases(document: Document, operation: Operation, oversize: int) -> list[tuple[str, object]]:
    """JSON bodies the operation's schema refuses: (what is wrong, body)."""
    content = document.resolve(operation.spec.get("requestBody")).get("content") or {}
    json_type = next((t for t in content if "json" in t.split(";")[0]), None)
    if json_type is None:
        return []
    schema = (content[json_type] or {}).get("schema")
    types = document.types(schema)
    bodies: list[tuple[str, object]] = []
    if types is not None and "array" not in types:
        bodies.append(("a JSON array where the schema wants " + " or ".join(sorted(types)),
                       ["qd-probe"]))  # fmt: skip
    elif types is not None and "object" not in types:
        bodies.append(("a JSON object where the schema wants " + " or ".join(sorted(types)),
                       {"qd_probe": "wrong type"}))  # fmt: skip
    if types != frozenset({"object"}):
        return bodies
    properties, required = document.object_shape(schema)
    if required:
        bodies.append((f"an empty object (required: {', '.join(required)})", {}))
    strings = [(name, s) for name, s in properties.items() if is_string_schema(document, s)]
    bounded = [(name, s["maxLength"]) for name, s in strings
               if isinstance(s.get("maxLength"), int)]  # fmt: skip
    if bounded:
        name, limit = bounded[0]
        bodies.append((f"{name} of {limit + 1} characters (at most {limit})",
                       {name: "x" * (limit + 1)}))  # fmt: skip
    elif strings and any(name != strings[0][0] for name in required):
        # Unbounded: long, in a body that also lacks another required property.
        name = strings[0][0]
        bodies.append((f"{name} of {oversize} characters, without the other required "
                       "properties", {name: "x" * oversize}))  # fmt: skip
    return bodies


def is_number(document: Document, parameter: Schema) -> bool:
    """A parameter the schema makes a number (so text is never valid)."""
    types = document.types(parameter.get("schema"))
    return bool(types) and types <= {"integer", "number", "null"} and not types <= {"null"}


def is_string(document: Document, parameter: Schema) -> bool:
    return is_string_schema(document, document.resolve(parameter.get("schema")))


def is_string_schema(document: Document, schema: Schema) -> bool:
    return document.types(schema) == frozenset({"string"})


def fill_path(
    document: Document, template: str, parameters: list[Schema],
    values: Mapping[str, str] | None = None,
) -> str:  # fmt: skip
    """``template`` with each ``{name}`` filled: ``values`` first, else a valid value
    that names nothing (the largest integer allowed, or ``PLACEHOLDER``)."""
    path = template
    for parameter in parameters:
        name = str(parameter.get("name"))
        value = (values or {}).get(name)
        if value is None:
            schema = document.resolve(parameter.get("schema"))
            if is_number(document, parameter):
                maximum = schema.get("maximum")
                value = str(int(maximum) if isinstance(maximum, int | float) else LARGE_ID)
            else:
                value = PLACEHOLDER
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path
