"""Prometheus's and Alertmanager's HTTP APIs, as the monitoring probes read them.

Requests go through ``ProbeClient``: the target's CA (``target.ca_file``), a timeout,
no redirects followed. A transport failure raises ``Unreachable``; an answer that is
not what the API documents raises ``ApiError``. Both name the URL asked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from checks.probes.http.client import ProbeClient, body_excerpt, join_url

QueryParams = Mapping[str, str | Sequence[str]]


class ApiError(Exception):
    """Prometheus or Alertmanager answered, but not with what its API documents."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One series of an instant vector: its labels, its value, and the time Prometheus
    evaluated the query at (by its own clock)."""

    labels: dict[str, str]
    value: float
    evaluated_at: float


def promql_string(text: str) -> str:
    """``text`` as a PromQL string literal: PromQL takes Go's escapes, of which JSON's are
    a subset."""
    return json.dumps(text, ensure_ascii=False)


async def get_json(http: ProbeClient, url: str, params: QueryParams | None = None) -> Any:
    """The JSON body of ``GET url?params``; ``ApiError`` for an error status or non-JSON."""
    full = str(httpx.URL(url, params=params)) if params else url
    response = await http.send("GET", full, record=False)
    try:
        body = response.json()
    except ValueError:
        raise ApiError(f"GET {full} answered HTTP {response.status_code} without JSON: "
                       f"{body_excerpt(response)!r}") from None  # fmt: skip
    if response.status_code >= 400:
        detail = body.get("error", body) if isinstance(body, dict) else body
        raise ApiError(f"GET {full} answered HTTP {response.status_code}: {detail}")
    return body


async def prometheus_data(
    http: ProbeClient, base_url: str, path: str, params: QueryParams | None = None
) -> Any:
    """The ``data`` of a Prometheus API answer (``{"status": "success", "data": ...}``)."""
    url = join_url(base_url, path)
    body = await get_json(http, url, params)
    if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
        raise ApiError(f"GET {url} did not answer like the Prometheus API: {str(body)[:300]!r}")
    return body["data"]


async def instant_query(http: ProbeClient, base_url: str, promql: str) -> list[Sample]:
    """The instant vector ``promql`` evaluates to now (``/api/v1/query``)."""
    data = await prometheus_data(http, base_url, "/api/v1/query", {"query": promql})
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise ApiError(f"query {promql} gave a {kind}, not an instant vector")
    try:
        return [Sample(dict(item["metric"]), float(item["value"][1]), float(item["value"][0]))
                for item in data["result"]]  # fmt: skip
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ApiError(f"query {promql} gave a malformed vector: {exc!r}") from None
