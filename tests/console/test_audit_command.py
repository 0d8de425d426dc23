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


def _entries(count: int) -> None:
    store = Store(load_settings().resolved_database_url)
    store.create_schema()
    for n in range(count):
        append_entry(store, f"user{n}", "check.attest" if n % 2 else "export.pine", str(n), {})
    store.dispose()


def test_list_shows_every_entry_by_default_and_says_nothing_is_left_out(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _entries(60)  # more than the 20 (or 50) a list used to stop at
    assert main(["audit", "list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 60
    assert lines[0].split()[0] == "1" and lines[-1].split()[0] == "60"
    assert err == ""
    assert main(["audit", "list", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [e["seq"] for e in json.loads(out)] == list(range(1, 61))
    assert err == ""


def test_list_limit_and_offset_page_back_and_say_how_many_more(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _entries(50)
    assert main(["audit", "list", "--limit", "20"]) == 0
    out, err = capsys.readouterr()
    assert [int(line.split()[0]) for line in out.splitlines()] == list(range(31, 51))
    assert err.strip() == ("20 of 50 entries shown; left out: 30 older (--offset 20 to page back)")
    assert main(["audit", "list", "--limit", "20", "--offset", "20", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [e["seq"] for e in json.loads(out)] == list(range(11, 31))
    assert err.strip() == (
        "20 of 50 entries shown; left out: 10 older (--offset 40 to page back), 20 newer"
    )
    assert main(["audit", "list", "--offset", "45"]) == 0
    out, err = capsys.readouterr()
    assert [int(line.split()[0]) for line in out.splitlines()] == [1, 2, 3, 4, 5]
    assert err.strip() == "5 of 50 entries shown; left out: 45 newer"


def test_list_action_filter_counts_only_matching_entries(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _entries(10)
    assert main(["audit", "list", "--action", "check.", "--limit", "2"]) == 0
    out, err = capsys.readouterr()
    assert [line.split()[3] for line in out.splitlines()] == ["check.attest"] * 2
    assert err.strip() == "2 of 5 entries shown; left out: 3 older (--offset 2 to page back)"


def test_list_refuses_a_negative_limit(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "list", "--limit", "-1"])
    assert exit_.value.code == 2
    assert "argument --limit: expected a whole number in [0, " in capsys.readouterr().err


def test_a_tail_deleted_with_its_checkpoints_does_not_verify(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings()
    _entries(20)
    assert run(capsys, "audit", "checkpoint")[1].startswith("signed checkpoint 1: 20 entries")
    with sqlite3.connect(settings.data_dir / "quarterdeck.db") as connection:
        connection.execute("DELETE FROM audit WHERE seq > 16")
        connection.execute("DELETE FROM audit_checkpoints")
    code, out = run(capsys, "audit", "verify")
    assert code == 1
    assert out.startswith("audit trail does NOT verify: the trail no longer has the signed "
                          "head entry 20 (20 entries), pinned in ")  # fmt: skip
    assert str(settings.audit_key_file.parent) in out
    code, out = run(capsys, "audit", "verify", "--json")
    assert code == 1 and json.loads(out)["ok"] is False
    code, out = run(capsys, "audit", "checkpoint")
    assert code == 1 and out.startswith("audit trail does NOT verify, nothing signed: ")
