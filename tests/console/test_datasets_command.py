"""`quarterdeck datasets`: the data catalog from the command line, with the API's rules
(a role that may run jobs adds, audited) and its ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli import main
from core.audit import read_entries
from core.config import Settings
from core.store import Store
from tests.bar_files import bars_csv


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_file_added_is_listed_shown_and_audited_once(
    isolated_environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "spy.csv"
    data.write_bytes(bars_csv(250))
    code, out, _ = run(capsys, "datasets", "add", str(data), "--symbol", "SPY", "--json")
    assert code == 0
    added = json.loads(out)
    assert (added["name"], added["rows"], added["symbol"], added["created"]) == (
        "spy.csv", 250, "SPY", True)  # fmt: skip
    code, out, _ = run(capsys, "datasets", "add", str(data))
    assert code == 0 and "already in the catalog" in out and f"catalog:{added['id']}" in out
    code, out, _ = run(capsys, "datasets", "list", "--json")
    assert [d["id"] for d in json.loads(out)] == [added["id"]]
    code, out, _ = run(capsys, "datasets", "show", added["id"])
    assert code == 0 and out.startswith(f"{added['id']}  spy.csv SPY  250 bars")
    store = Store(Settings().resolved_database_url)
    actions = [e.action for e in read_entries(store) if e.action.startswith("dataset.")]
    store.dispose()
    assert actions == ["dataset.add"]


def test_bad_files_and_roles_are_one_line_each(
    isolated_environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    broken = tmp_path / "prices.csv"
    broken.write_text("date,open,high,low,close,volume\n2024-01-02,1,2,0.5,oops,10\n")
    assert run(capsys, "datasets", "add", str(broken))[::2] == (
        2, "quarterdeck datasets: prices.csv:2 [close]: not a number: 'oops'\n")  # fmt: skip
    missing = tmp_path / "none.csv"
    code, _, err = run(capsys, "datasets", "add", str(missing))
    assert (code, err) == (2, f"quarterdeck datasets: {missing}: No such file or directory\n")
    code, _, err = run(capsys, "datasets", "show", "0123456789abcdef")
    assert (code, err) == (1, "quarterdeck datasets: no dataset '0123456789abcdef' in the "
                              "data catalog\n")  # fmt: skip
    good = tmp_path / "spy.csv"
    good.write_bytes(bars_csv(50))
    monkeypatch.setenv("QD_CONSOLE_ROLE", "viewer")
    code, _, err = run(capsys, "datasets", "add", str(good), "--as", "vic")
    assert code == 2 and err == ("quarterdeck datasets: vic: the viewer role may not run jobs "
                                 "(needs operator)\n")  # fmt: skip
    store = Store(Settings().resolved_database_url)
    denied = [(e.actor, e.action) for e in read_entries(store) if e.action.startswith("denied")]
    store.dispose()
    assert denied == [("vic", "denied.dataset.add")]
    assert run(capsys, "datasets", "list")[1] == (
        "the data catalog is empty (quarterdeck datasets add FILE)\n")  # fmt: skip
