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
from tests.checks.test_runbook_preflight import stub_systemctl

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
scope = "quarterdeck"
timeout = 10
sources = ["001: Rollback Plan"]
"""


def audit_entries() -> list:
    store = Store(load_settings().resolved_database_url)
    entries = read_entries(store, "runbook.")
    store.dispose()
    return entries


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


ROLLBACK_VARIABLES = ("QD_SERVICE", "QD_VENV", "QD_PREVIOUS_VERSION", "QD_LOG_DIR",
                      "QD_INCIDENT_DIR")  # fmt: skip


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Scratch directories, a venv whose pip only records its arguments, and a stub
    ``systemctl`` first on PATH that knows the unit ``quarterdeck`` (and records its calls):
    the environment the built-in rollback needs, none of it real."""
    for name in ROLLBACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    bin_dir = stub_systemctl(tmp_path / "bin", "quarterdeck")
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    pip = venv / "bin" / "pip"
    pip.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/pip.log\n')
    pip.chmod(0o755)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "quarterdeck.jsonl").write_text("{}\n")
    return {"QD_SERVICE": "quarterdeck", "QD_VENV": str(venv), "QD_PREVIOUS_VERSION": "0.9.0",
            "QD_LOG_DIR": str(tmp_path / "logs"), "QD_INCIDENT_DIR": str(tmp_path / "incident"),
            "QD_CHECK_DATABASE_URL": f"sqlite:///{tmp_path / 'target.db'}",
            "PATH": f"{bin_dir}:{os.environ['PATH']}"}  # fmt: skip


def test_the_rollback_dry_run_with_nothing_set_names_each_variable_and_exits_1(
    isolated_environment: Path, site: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runbook", "run", "rollback", "--dry-run", "--yes"]) == 1
    out = capsys.readouterr().out
    assert "rollback would fail at step 4: QD_SERVICE is not set; QD_VENV is not set; " \
        "QD_PREVIOUS_VERSION is not set" in out  # fmt: skip
    for name in ROLLBACK_VARIABLES:
        assert f"{name} is not set" in out
    assert "step 7 verify_health: target.base_url is not set" in out
    assert "step 8 verify_database: target.database_url is not set" in out
    assert "succeeded" not in out and "RTO 5 min (dry run" in out and "[00:00" not in out
    finish = next(e for e in audit_entries() if e.action == "runbook.finish")
    assert finish.detail["dry_run"] and not finish.detail["succeeded"]


def test_the_rollback_dry_run_with_everything_set_is_ready(
    isolated_environment: Path,
    site: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    for name, value in site.items():
        monkeypatch.setenv(name, value)
    code = main(["runbook", "run", "rollback", "--dry-run", "--target", "http://127.0.0.1:9"])
    out = capsys.readouterr().out
    assert "rollback is ready" in out and code == 0, out
    assert "would-fail" not in out and not (tmp_path / "pip.log").exists()
    calls = (tmp_path / "bin" / "systemctl.log").read_text().splitlines()
    assert set(calls) == {"cat --no-pager -- quarterdeck"}  # asked, nothing stopped

    monkeypatch.setenv("QD_SERVICE", "quarterdesk")  # a typo'd unit
    assert main(["runbook", "run", "rollback", "--dry-run", "--target", "http://x:9"]) == 1
    assert "would fail at step 4: unit quarterdesk is not known to systemctl" in (
        capsys.readouterr().out)  # fmt: skip


def test_the_real_rollback_reverts_although_preserving_the_logs_fails(
    isolated_environment: Path, site: dict[str, str], tmp_path: Path
) -> None:
    """No terminal: the failed (not critical) log step is recorded and the run goes on to
    the revert and the start; the health check then fails (nothing listens), which is
    critical, so the run stops there."""
    env = {**os.environ, **site, "QD_LOG_DIR": str(tmp_path / "no-such-logs")}
    result = subprocess.run(
        [QUARTERDECK, "runbook", "run", "rollback", "--yes", "--target", "http://127.0.0.1:9"],
        capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    out = result.stdout
    assert "pre-flight" not in out, out  # the missing directory is only found by running
    assert "failed   preserve_logs: exit 2" in out
    assert "done     revert_version: exit 0" in out and "done     start_service: exit 0" in out
    assert "failed   verify_health:" in out
    assert "skipped  verify_database: an earlier step failed" in out
    assert (tmp_path / "pip.log").read_text() == "install --no-deps quarterdeck==0.9.0\n"
    calls = (tmp_path / "bin" / "systemctl.log").read_text().splitlines()
    assert calls[-2:] == ["stop quarterdeck", "start quarterdeck"]
    assert result.returncode == 1 and "rollback FAILED: stopped before step 8" in out


def test_without_a_terminal_a_critical_preflight_problem_does_not_start_the_run(
    isolated_environment: Path, site: dict[str, str], tmp_path: Path
) -> None:
    env = {**os.environ, **site}
    del env["QD_SERVICE"]
    command = [QUARTERDECK, "runbook", "run", "rollback", "--yes", "--target", "http://x:9"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120,
                            stdin=subprocess.DEVNULL)  # fmt: skip
    assert result.returncode == 1
    assert "pre-flight: would fail at step 4: QD_SERVICE is not set" in result.stdout
    assert "rollback not started" in result.stdout and not (tmp_path / "pip.log").exists()
    assert [e.action for e in audit_entries()] == []


def test_at_a_terminal_a_failed_critical_step_is_retried_or_skipped_with_a_reason(
    isolated_environment: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    book = tmp_path / "drill.toml"
    tried = tmp_path / "tried"
    book.write_text(
        RUNBOOK.format(command=f"test -e {tried} || {{ touch {tried}; exit 1; }}")
        .replace('kind = "probe"', 'kind = "probe"\ncritical = true')
        .replace('probe = "database.reachable"\nscope = "quarterdeck"', 'probe = "http.health"')
    )
    answers = iter(["x", "r", "y", "s", "", "health is checked by hand"])
    monkeypatch.setattr("console.commands.runbook._ask", lambda prompt: next(answers))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    code = main(["runbook", "run", str(book), "--as", "olga", "--force",
                 "--target", "http://127.0.0.1:9"])  # fmt: skip
    out = capsys.readouterr().out
    assert "is critical and failed: exit 1" in out and "done     preserve_logs: exit 0" in out
    assert code == 1 and "drill FAILED: completed with failed steps verify_database" in out
    entries = [(e.actor, e.action, e.subject, e.detail.get("reason")) for e in audit_entries()
               if e.action in ("runbook.retry", "runbook.skip")]  # fmt: skip
    assert entries == [
        ("olga", "runbook.retry", "drill/preserve_logs", "retrying after: exit 1"),
        ("olga", "runbook.skip", "drill/verify_database", "health is checked by hand"),
    ]
