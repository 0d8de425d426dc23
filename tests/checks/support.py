"""Helpers shared by the readiness tests (fixtures live in conftest.py)."""

from __future__ import annotations

from typing import Any

from checks import ProbeParams


class SleepParams(ProbeParams):
    seconds: float = 0.0


class Tracker:
    """Counts how many tracked probes run at once and how often each ran."""

    def __init__(self) -> None:
        self.active = 0
        self.max_active = 0
        self.calls = 0


def item(
    item_id: str, probe: str | None = None, *, scope: str | None = None, **params: Any
) -> dict[str, Any]:
    """A checklist item as a dict: a probe item when ``probe`` is given, else manual;
    ``scope`` what it examines, when not its probe's default."""
    data: dict[str, Any] = {
        "id": item_id,
        "section": "Tests",
        "title": f"Title of {item_id}",
        "why": "because",
        "severity": "blocking",
        "kind": "probe" if probe else "manual",
        "owner": "QA",
        "evidence": "a result",
        "sources": ["001: Unit Tests"],
    }
    if probe:
        data["probe"] = probe
    if params:
        data["params"] = params
    if scope:
        data["scope"] = scope
    return data
