"""The release report to sign: its Markdown and its PDF (read back with ``pdftotext``)
hold the same facts: the target, the release, each item's verdict, a waiver's expiry,
the attestations, the sign-offs, the rollback runs against the RTO and the audit
chain's verification at the time of export."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from checks import Checklist, ProbeResult
from checks.ledger import attest, record_results, sign_off, waive
from checks.release import Release
from checks.release_report import (
    ReleaseReport,
    as_markdown,
    export,
    gather,
    resolve_target,
    when,
    write_pdf,
)
from core.access import Principal, Role
from core.audit import append_entry
from core.events import Verdict
from core.store import Store
from tests.core.test_report import pdf_text

from .support import item

RELEASE = Release("testing", "1.4.0", "staging")
TARGET = "https://staging.desk.example"
CI = Principal("ci", Role.OPERATOR, source="cli")
OLGA = Principal("olga", Role.OPERATOR)
SAM = Principal("sam", Role.RELEASE_MANAGER)
ROLES = ("QA", "Security")
EXPIRES = time.time() + 7 * 86_400


@pytest.fixture
def checklist(make_checklist: Callable[..., Checklist]) -> Checklist:
    advisory = {**item("ops.dashboard", "test.fail"), "severity": "advisory"}
    return make_checklist(item("api.health", "test.pass"), item("api.tls", "test.fail"),
                          item("ops.runbook_reviewed"), advisory)  # fmt: skip


def rollback_run(store: Store, *, dry_run: bool, elapsed: float, succeeded: bool) -> None:
    """What a runbook session audits at its start and finish."""
    append_entry(store, "rita", "runbook.start", "rollback",
                 {"dry_run": dry_run, "rto_minutes": 5, "stop_on_failure": True})  # fmt: skip
    append_entry(store, "rita", "runbook.finish", "rollback", {
        "succeeded": succeeded, "elapsed": elapsed, "within_rto": elapsed <= 300,
        "dry_run": dry_run,
    })  # fmt: skip


@pytest.fixture
def report(store: Store, checklist: Checklist, tmp_path: Path) -> ReleaseReport:
    record_results(store, RELEASE, {
        "api.health": ProbeResult(Verdict.PASS, "200 in 12 ms", {"status": 200, "latency_ms": 12}),
        "api.tls": ProbeResult(Verdict.FAIL, "certificate expires in 3 days", {"days_left": 3}),
    }, CI)  # fmt: skip
    waive(store, checklist, RELEASE, "api.tls", "renewal booked for Monday", SAM, "Security",
          EXPIRES)  # fmt: skip
    attest(store, checklist, RELEASE, "ops.runbook_reviewed", Verdict.PASS, OLGA,
           "walked through with on-call", "OPS-481")  # fmt: skip
    sign_off(store, checklist, RELEASE, "QA", SAM, "regression suite green", ROLES)
    rollback_run(store, dry_run=True, elapsed=1.4, succeeded=True)
    rollback_run(store, dry_run=False, elapsed=185.0, succeeded=True)
    return gather(store, checklist, RELEASE, configured_target=TARGET,
                  audit_key_file=tmp_path / "audit.pem", required_roles=ROLES)  # fmt: skip


def row(markdown: str, item_id: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(f"| {item_id}:"))


def test_markdown_holds_everything_a_release_manager_signs(report: ReleaseReport) -> None:
    md = as_markdown(report)
    assert md.startswith("# Release report: testing 1.4.0 (staging)\n")
    assert f"| **Target** | {TARGET} |" in md
    assert "| **Release** | 1.4.0 |" in md and "| **Environment** | staging |" in md
    assert "| PASS | ci | 200 in 12 ms | latency_ms: 12; status: 200 |" in row(md, "api.health")
    assert "| WAIVED | ci | certificate expires in 3 days |" in row(md, "api.tls")
    assert "| PASS | olga | walked through with on-call | evidence: OPS-481 |" in row(
        md, "ops.runbook_reviewed"
    )
    assert "| advisory | PENDING |" in row(md, "ops.dashboard")
    assert (f"| api.tls | valid | {when(EXPIRES)} | sam (Security) | renewal booked for "
            "Monday |") in md  # fmt: skip
    assert "| ops.runbook_reviewed | PASS | by olga for QA |" in md
    assert "| QA | signed by sam |" in md and "| Security | NOT SIGNED |" in md
    assert "not authorized; not yet authorizable: no valid sign-off from Security" in md
    assert "| latest dry run |" in md and "completed (a dry run: nothing was run)" in md
    assert "| not timed (a dry run) |" in md  # the RTO is for real runs
    assert "| succeeded | 03:05, within the 5-minute RTO |" in md
    entries = 8  # run, waive, attest, sign-off, two runbook runs of two entries each
    assert f"audit trail verified: {entries} entries, 0 signed checkpoint(s), at " in md


def test_pdf_is_the_same_report_in_the_backtest_reports_engine(
    report: ReleaseReport, tmp_path: Path
) -> None:
    text = pdf_text(write_pdf(report, tmp_path / "release.pdf"))
    assert "Release report" in text and "testing 1.4.0 (staging)" in text
    assert f"Target {TARGET}" in text
    assert "Release 1.4.0" in text and "Environment staging" in text
    for verdict in ("PASS", "WAIVED", "PENDING"):
        assert verdict in text
    assert when(EXPIRES) in text
    assert "renewal booked for Monday" in text
    assert "signed by sam" in text and "NOT SIGNED" in text
    assert "by olga for QA" in text
    assert "03:05, within the 5-minute RTO" in text
    assert "audit trail verified: 8 entries, 0 signed checkpoint(s)" in text
    assert "Page 1" in text  # the house footer


def test_the_target_recorded_with_the_verdicts_wins_over_the_configured_one() -> None:
    def items(*targets: str | None) -> SimpleNamespace:
        return SimpleNamespace(items=[
            SimpleNamespace(result=SimpleNamespace(target=t) if t is not None else None)
            for t in targets
        ])  # fmt: skip

    assert resolve_target(items("https://a.example", None), "https://b.example") == (
        "https://a.example", "recorded with the verdicts"
    )  # fmt: skip
    assert resolve_target(items(None), "https://b.example")[0] == "https://b.example"
    assert resolve_target(items("https://a", "https://c"), "")[0] == "https://a, https://c"
    assert resolve_target(items(), "") == ("", "not set (QD_CHECK_TARGET is empty)")


def test_a_tampered_trail_is_reported_as_not_verifying(
    store: Store, checklist: Checklist, tmp_path: Path
) -> None:
    attest(store, checklist, RELEASE, "ops.runbook_reviewed", Verdict.PASS, OLGA, "ok")
    append_entry(store, "olga", "check.note", "x", {})
    with sqlite3.connect(tmp_path / "quarterdeck.db") as connection:
        connection.execute("UPDATE audit SET actor = 'mallory' WHERE seq = 1")
    report = gather(store, checklist, RELEASE, audit_key_file=tmp_path / "k.pem",
                    required_roles=ROLES)  # fmt: skip
    md = as_markdown(report)
    assert "audit trail does NOT verify: audit entry 1 (check.attest by mallory)" in md
    assert "| **Target** | not set |" in md
    assert "| latest rehearsal (real run) | none recorded |" in md


def test_export_names_the_file_by_release_and_time(
    store: Store, checklist: Checklist, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    path = export(store, checklist, RELEASE, fmt="markdown", folder=folder,
                  configured_target=TARGET, audit_key_file=tmp_path / "k.pem",
                  required_roles=ROLES, now=1_700_000_000.0)  # fmt: skip
    assert path == folder / "release-report-testing-1.4.0-staging-20231114T221320Z.md"
    assert TARGET in path.read_text()
    pdf = export(store, checklist, RELEASE, fmt="pdf", folder=folder, configured_target=TARGET,
                 audit_key_file=tmp_path / "k.pem", required_roles=ROLES,
                 now=1_700_000_000.0)  # fmt: skip
    assert pdf.suffix == ".pdf" and TARGET in pdf_text(pdf)
