"""`quarterdeck runbook run` on a real terminal process: steps, confirmations, the audit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli import main
from core.audit import read_entries
from core.config import load_settings
from core.store import Store

QUARTERDECK = str(Path(sys.executable).with_name("quarterdeck"))
RUNBOOK = """\
[runbook]
id = "drill"
title = "Drill"
description = "Preserve, confirm, verify."
rto_minutes = 5

[[steps]]
id = "preserve_logs"
title = "Preserve logs"
kind = "shell"
instructions = "Copy the logs aside."
command = "{command}"
timeout = 10
sources = ["001: Rollback Plan"]

[[steps]]
id = "notify"
title = "Notify the desk"
kind = "manual"
instructions = "Tell the desk the drill is on."
sources = ["001: Rollback Plan"]

[[steps]]
id = "verify_database"
title = "Verify the database"
kind = "probe"
instructions = "The store answers."
probe = "database.reachable"
timeout = 10
sources = ["001: Rollback Plan"]
"""


def audit_actions() -> list[tuple[str, str]]:
    store = Store(load_settings().resolved_database_url)
    entries = [(e.action, e.subject) for e in read_entries(store, "runbook.")]
    store.dispose()
    return entries


def test_a_runbook_runs_every_step_and_audits_it(
    isolated_environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "drill.toml"
    book.write_text(RUNBOOK.format(command=f"echo saved > {tmp_path / 'saved.txt'}; echo ok"))
    code = main(["runbook", "run", str(book), "--yes", "--as", "olga"])
    out = capsys.readouterr().out
    assert code == 0 and (tmp_path / "saved.txt").exists()
    assert "done     preserve_logs: exit 0" in out and "done     verify_database: pass:" in out
    assert "drill succeeded in 00:00, within the 5-minute RTO" in out
    assert audit_actions() == [
        ("runbook.start", "drill"), ("runbook.step", "drill/preserve_logs"),
        ("runbook.step", "drill/notify"), ("runbook.step", "drill/verify_database"),
        ("runbook.finish", "drill"),
    ]  # fmt: skip


def test_an_unconfirmed_step_stops_the_run_at_the_terminal(
    isolated_environment: Path, tmp_path: Path
) -> None:
    book = tmp_path / "drill.toml"
    book.write_text(RUNBOOK.format(command="echo ok"))
    result = subprocess.run([QUARTERDECK, "runbook", "run", str(book)], input="n\n",
                            capture_output=True, text=True, env=os.environ.copy(),
                            timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert "failed   notify: not confirmed" in result.stdout
    assert "skipped  verify_database: an earlier step failed" in result.stdout
    assert "drill FAILED" in result.stdout


def test_a_broken_runbook_file_exits_2_naming_it(
    isolated_environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "drill.toml"
    book.write_text(RUNBOOK.format(command="echo ok").replace("timeout = 10\nsources", "sources"))
    assert main(["runbook", "run", str(book)]) == 2
    assert f"{book}:" in capsys.readouterr().err
