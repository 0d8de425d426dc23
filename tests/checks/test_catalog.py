"""The built-in catalog and loading valid checklist files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checks import (
    CATALOG_DIR,
    REGISTRY,
    ItemKind,
    Role,
    Severity,
    builtin_checklist,
    builtin_checklists,
    load_checklist,
)

SEEDS = {f"{n:03d}" for n in range(5)}


def test_builtin_catalog_loads_production_checklist() -> None:
    checklists = builtin_checklists()
    assert "production" in checklists
    production = checklists["production"]
    assert production.title
    assert production.description
    assert len(production.items) >= 25
    assert (CATALOG_DIR / "production.toml").is_file()


def test_builtin_items_have_sources_naming_seeds_000_to_004() -> None:
    production = builtin_checklist("production")
    for item in production.items:
        assert item.sources, item.id
        for source in item.sources:
            match = re.fullmatch(r"(\d{3}): (\S.*)", source)
            assert match, f"{item.id}: {source!r} is not 'NNN: Label'"
            assert match.group(1) in SEEDS, f"{item.id}: {source!r} names no seed"


def test_builtin_catalog_covers_every_seed() -> None:
    production = builtin_checklist("production")
    cited = {source[:3] for item in production.items for source in item.sources}
    assert cited == SEEDS


def test_builtin_probe_items_use_every_builtin_probe() -> None:
    """Every registered probe decides some item, and nothing names an unknown probe."""
    used = {
        item.probe for checklist in builtin_checklists().values() for item in checklist.probe_items
    }
    assert used == set(REGISTRY.names())
    production = builtin_checklist("production")
    assert all(item.probe is None for item in production.manual_items)


def test_builtin_items_are_complete_and_unique() -> None:
    production = builtin_checklist("production")
    ids = [item.id for item in production.items]
    assert len(ids) == len(set(ids))
    for item in production.items:
        assert re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", item.id)
        assert item.section and item.title and item.why and item.evidence
        assert isinstance(item.severity, Severity)
        assert isinstance(item.owner, Role)
    assert {item.kind for item in production.items} == {ItemKind.PROBE, ItemKind.MANUAL}
    assert any(item.severity is Severity.BLOCKING for item in production.items)
    assert any(item.severity is Severity.ADVISORY for item in production.items)


def test_builtin_checklist_unknown_id_raises_keyerror() -> None:
    with pytest.raises(KeyError, match="production"):
        builtin_checklist("staging")


def test_valid_file_loads_items_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(
        """
[checklist]
id = "mini"
title = "Mini"
description = "Two items."

[[items]]
id = "host.disk_free"
section = "Infrastructure"
title = "Disk"
why = "Full disks stop writes."
severity = "advisory"
kind = "probe"
probe = "host.disk"
params = { min_free_percent = 5 }
owner = "Infrastructure"
evidence = "Free bytes."
sources = ["001: Resource Allocation"]

[[items]]
id = "ops.runbook"
section = "Operations"
title = "Runbook"
why = "On-call needs steps."
severity = "blocking"
kind = "manual"
owner = "Operations"
evidence = "A link."
sources = [
    "002: Runbooks",
    "003: Deployment Runbook",
]
""",
        encoding="utf-8",
    )
    checklist = load_checklist(path)
    assert checklist.id == "mini"
    assert [i.id for i in checklist.items] == ["host.disk_free", "ops.runbook"]
    disk = checklist.item("host.disk_free")
    assert disk.params == {"min_free_percent": 5}
    assert disk.severity is Severity.ADVISORY
    assert checklist.item("ops.runbook").sources == ("002: Runbooks", "003: Deployment Runbook")
    with pytest.raises(KeyError):
        checklist.item("nope.nope")
