"""`quarterdeck audit verify|checkpoint|list` against the store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from console.cli import main
from core.audit import append_entry
from core.config import load_settings
from core.store import Store


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_verify_finds_an_edited_entry_and_names_it(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    store = Store(settings.resolved_database_url)
    store.create_schema()
    for who in ("alice", "bob", "carol"):
        append_entry(store, who, "check.attest", "production/tls", {"note": who})
    store.dispose()
    assert run(capsys, "audit", "checkpoint")[1].startswith("signed checkpoint 1: 3 entries")
    assert run(capsys, "audit", "checkpoint")[1].strip() == "nothing new to sign"
    code, out = run(capsys, "audit", "verify")
    assert (code, out.strip()) == (
        0, "audit trail verified: 3 entries, 1 signed checkpoint(s), the newest covering 3",
    )  # fmt: skip
    code, out = run(capsys, "audit", "list", "--json")
    assert [e["actor"] for e in json.loads(out)] == ["alice", "bob", "carol"]
    with sqlite3.connect(settings.data_dir / "quarterdeck.db") as connection:
        connection.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 2")
    code, out = run(capsys, "audit", "verify")
    assert code == 1
    assert out.strip() == (
        "audit trail does NOT verify: audit entry 2 (check.attest by mallory) does not follow "
        "from the one before it"
    )
