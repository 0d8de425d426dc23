"""`quarterdeck check report`: the release report to sign, from the CLI, as Markdown and PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main
from core.audit import read_entries
from core.store import Store
from tests.console.test_check_command import CHECKLIST
from tests.core.test_report import pdf_text

TARGET = "https://staging.desk.example"


def test_report_writes_markdown_and_pdf_with_the_same_facts(
    tmp_path: Path, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("QD_SIGNOFF_ROLES", "Operations,QA")
    monkeypatch.setenv("QD_CHECK_TARGET", TARGET)
    gate = tmp_path / "gate.toml"
    gate.write_text(CHECKLIST.format(free=1))
    common = ["--release", "2.0.0", "--env", "staging", "--as", "alice"]
    assert main(["check", "attest", str(gate), "ops.rollback_rehearsed", "pass", "--note",
                 "rehearsed on Tuesday", *common]) == 0  # fmt: skip
    assert main(["check", "waive", str(gate), "infra.disk", "--justification", "new disk on order",
                 "--role", "Infrastructure", "--days", "3", *common]) == 0  # fmt: skip
    assert main(["check", "signoff", str(gate), "--role", "QA", *common]) == 0
    capsys.readouterr()

    markdown, pdf = tmp_path / "release.md", tmp_path / "release.pdf"
    code = main(["check", "report", str(gate), *common, "--markdown", str(markdown),
                 "--pdf", str(pdf)])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    verified = "audit trail verified: 3 entries, 0 signed checkpoint(s)"
    assert out.splitlines() == [f"wrote {markdown}", f"wrote {pdf}", verified]
    md = markdown.read_text()
    text = pdf_text(pdf)
    for fact in (TARGET, "2.0.0", "staging", "WAIVED", "PASS", "MANUAL", "new disk on order",
                 "signed by alice", "NOT SIGNED",
                 "audit trail verified: 3 entries, 0 signed checkpoint(s)"):  # fmt: skip
        assert fact in md, fact
        assert fact in text, fact
    expiry = next(line for line in md.splitlines() if line.startswith("| infra.disk | valid |"))
    assert expiry.split(" | ")[2] in text  # the waiver's expiry, in both
    store = Store(f"sqlite:///{isolated_environment / 'quarterdeck.db'}")
    try:  # the report signed is on the trail: who exported which release, where, saying what
        exported = [(e.actor, e.subject, e.detail["path"], e.detail["target"])
                    for e in read_entries(store, "check.report")]  # fmt: skip
    finally:
        store.dispose()
    release_name = exported[0][1]
    assert "2.0.0" in release_name
    assert exported == [("alice", release_name, str(path), TARGET) for path in (markdown, pdf)]

    assert main(["check", "report", str(gate), *common]) == 0  # no file: the Markdown
    printed = capsys.readouterr().out
    assert printed.startswith("# Release report: release_gate 2.0.0 (staging)\n")
    assert f"| **Target** | {TARGET} |" in printed


def test_report_of_an_unknown_checklist_is_a_usage_error(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "report", "nonesuch", "--release", "1"]) == 2
    assert "nonesuch" in capsys.readouterr().err
