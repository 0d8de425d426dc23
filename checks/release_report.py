"""The release report a release manager signs: one document, as Markdown or PDF.

What it holds: the target the verdicts describe, the release and environment,
where the release stands, every item with its verdict, who gave it and the
evidence, the waivers with their expiry, the attestations, the sign-offs by
role, the authorization, the latest dry run and rehearsal (real run) of the
rollback runbook with their times against its RTO, and the audit chain's
verification (the check ``quarterdeck audit verify`` makes) at the time of export.

``gather`` reads all of it from the store (blocking: call it from a thread);
``document`` lays it out once, as plain blocks, and ``as_markdown`` and
``write_pdf`` render those same blocks, so the two files cannot disagree. The
PDF is made by ``core.exports.pdf``, the engine of the backtest reports.

The target: the one recorded with the items' newest verdicts when the ledger
records one (a ``target`` on the result rows), else the configured
``QD_CHECK_TARGET``; the report says which.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checks.catalog import Checklist
from checks.ledger import state
from checks.release import DEFAULT_ROLES, ItemState, Release, ReleaseState
from core.access import Principal
from core.exports import pdf
from core.guard import record
from core.store import Store

#: Characters of one item's evidence a report prints (the JSON report has all of it).
EVIDENCE_LIMIT = 600
ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class RunbookRecord:
    """One finished run of a runbook, as the audit trail recorded it."""

    runbook: str
    dry_run: bool
    finished_at: float
    actor: str
    outcome: str
    elapsed: float
    rto_seconds: float | None
    within_rto: bool | None
    succeeded: bool = False
    target: str = ""  # the deployment it ran against ("" before runs recorded one)


@dataclass(frozen=True, slots=True)
class AuditCheck:
    ok: bool
    text: str  # the sentence ``quarterdeck audit verify`` prints
    checked_at: float


@dataclass(frozen=True, slots=True)
class ReleaseReport:
    state: ReleaseState
    checklist_title: str
    target: str  # "" when none is known
    target_source: str
    generated_at: float
    dry_run: RunbookRecord | None
    rehearsal: RunbookRecord | None
    audit: AuditCheck


def gather(
    store: Store,
    checklist: Checklist,
    release: Release,
    *,
    configured_target: str = "",
    audit_key_file: Path,
    required_roles: Iterable[str] = DEFAULT_ROLES,
    runbook: str = ROLLBACK,
    now: float | None = None,
) -> ReleaseReport:
    """Everything the report shows, read now. Blocking."""
    now = time.time() if now is None else now
    current = state(store, checklist, release, required_roles=required_roles, now=now)
    target, source = resolve_target(current, configured_target)
    dry_run, rehearsal = latest_runs(store, runbook)
    return ReleaseReport(current, checklist.title, target, source, now, dry_run, rehearsal,
                         verify(store, audit_key_file, now))  # fmt: skip


def resolve_target(current: ReleaseState, configured: str) -> tuple[str, str]:
    """The target the verdicts were recorded against, if the ledger recorded one, else
    the configured one; and where it came from."""
    recorded = sorted(
        {s.result.target for s in current.items if s.result is not None and s.result.target}
    )
    if len(recorded) == 1:
        return recorded[0], "recorded with the verdicts"
    if recorded:
        return ", ".join(recorded), f"the verdicts were recorded against {len(recorded)} targets"
    if configured:
        return configured, "QD_CHECK_TARGET (no target recorded with the verdicts)"
    return "", "not set (QD_CHECK_TARGET is empty)"


def latest_runs(store: Store, runbook: str) -> tuple[RunbookRecord | None, RunbookRecord | None]:
    """The newest finished dry run and real run of ``runbook``, from the audit trail."""
    runs = runbook_runs(store, runbook)
    dry = [run for run in runs if run.dry_run]
    real = [run for run in runs if not run.dry_run]
    return (dry[-1] if dry else None), (real[-1] if real else None)


def runbook_runs(store: Store, runbook: str) -> list[RunbookRecord]:
    """Every finished run of ``runbook``, oldest first, from the audit trail
    (``runbook.start`` gives the RTO and the target, ``runbook.finish`` the outcome and
    time)."""
    from core.audit import read_entries

    runs: list[RunbookRecord] = []
    started: dict[str, Any] = {}
    for entry in read_entries(store, "runbook."):
        if entry.subject != runbook:
            continue
        detail = entry.detail
        if entry.action == "runbook.start":
            started = detail
        elif entry.action == "runbook.finish":
            dry_run = bool(detail.get("dry_run"))
            minutes = started.get("rto_minutes")
            within = detail.get("within_rto")
            runs.append(RunbookRecord(
                runbook, dry_run, entry.ts, entry.actor, _outcome(detail, dry_run),
                float(detail.get("elapsed") or 0.0),
                float(minutes) * 60.0 if isinstance(minutes, int | float) else None,
                within if isinstance(within, bool) else None,
                bool(detail.get("succeeded")), str(started.get("target") or ""),
            ))  # fmt: skip
            started = {}
    return runs


def _outcome(detail: dict[str, Any], dry_run: bool) -> str:
    """In words: a verdict the run recorded ("ready", "would fail at step 2: …") as it is;
    else succeeded or failed (a dry run that ran nothing never "succeeded")."""
    verdict = detail.get("verdict")
    if isinstance(verdict, str) and verdict:
        return verdict
    # runs recorded before runbooks gave their verdict
    if dry_run:
        return "completed (a dry run: nothing was run)" if detail.get("succeeded") else "failed"
    return "succeeded" if detail.get("succeeded") else "FAILED"


def verify(store: Store, key_file: Path, now: float) -> AuditCheck:
    """The audit chain and signed checkpoints, as ``quarterdeck audit verify`` checks them."""
    from core.audit import Tampered, verify_audit

    try:
        verified = verify_audit(store, key_file)
    except Tampered as exc:
        return AuditCheck(False, f"audit trail does NOT verify: {exc}", now)
    tail = (f", the newest covering {verified.last_checkpoint_at}"
            if verified.last_checkpoint_at is not None else "")  # fmt: skip
    text = (f"audit trail verified: {verified.entries} entries, "
            f"{verified.checkpoints} signed checkpoint(s){tail}")  # fmt: skip
    return AuditCheck(True, text, now)


# --- layout ---------------------------------------------------------------------------------


def when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def clock(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes:02d}:{rest:02d}"


def evidence_text(s: ItemState) -> str:
    if s.result is None:
        return ""
    try:
        evidence = json.loads(s.result.evidence_json or "{}")
    except ValueError:
        evidence = s.result.evidence_json
    if isinstance(evidence, dict):
        text = "; ".join(
            f"{key}: {value if isinstance(value, str) else json.dumps(value, default=str)}"
            for key, value in evidence.items()
            if value not in ("", None, [], {})
        )
    else:
        text = str(evidence)
    if len(text) > EVIDENCE_LIMIT:
        text = text[:EVIDENCE_LIMIT] + " … (cut; the JSON report has all of it)"
    return text


def _reason(s: ItemState) -> str:
    if s.result is not None:
        return s.result.reason
    if s.item.probe is None:
        return f"needs attestation by {s.item.owner.value}"
    return "not run"


def _verdict(s: ItemState) -> str:
    text = s.status.upper()
    if s.blocking and not s.satisfied:
        text += " (blocking)"
    return text


def _run_text(run: RunbookRecord | None, what: str) -> tuple[str, str, str, str, str]:
    if run is None:
        return (what, "none recorded", "", "", "")
    if run.dry_run:  # the pre-flight alone: nothing ran, so there is no time to hold
        return (what, when(run.finished_at), run.actor, run.outcome, "not timed (a dry run)")
    if run.rto_seconds is None:
        against = "RTO unknown"
    else:
        rto = f"{run.rto_seconds / 60:g}-minute RTO"
        within = run.within_rto if run.within_rto is not None else run.elapsed <= run.rto_seconds
        against = f"{'within' if within else 'OVER'} the {rto}"
    return (what, when(run.finished_at), run.actor, run.outcome,
            f"{clock(run.elapsed)}, {against}")  # fmt: skip


def document(report: ReleaseReport) -> pdf.Document:
    """The report as blocks, in order; both renderings follow it."""
    current, r = report.state, report.state.release
    failures = current.blocking_failures
    readiness = ("READY: every blocking item passes or holds a valid waiver" if current.ready
                 else f"NOT READY: {len(failures)} blocking item(s) unsatisfied")  # fmt: skip
    facts = [
        ("Target", report.target or "not set"),
        ("Target from", report.target_source),
        ("Release", r.version),
        ("Environment", r.environment),
        ("Checklist", f"{r.checklist} ({report.checklist_title})"),
        ("Readiness", readiness),
        ("Authorization", _authorization(current)),
        ("Audit trail", f"{report.audit.text} (checked {when(report.audit.checked_at)})"),
        ("Generated", when(report.generated_at)),
    ]
    blocks: list[pdf.Block] = [pdf.Facts(facts)]

    blocks += [pdf.Heading("Items"), pdf.Paragraph(
        "Each item's current verdict: the newest probe result or attestation; WAIVED over a "
        "failing verdict while its waiver holds.", small=True)]  # fmt: skip
    rows = [
        [f"{s.item.id}: {s.item.title}", s.item.severity.value, _verdict(s),
         s.result.actor if s.result else "", _reason(s), evidence_text(s)]
        for s in current.items
    ]  # fmt: skip
    blocks.append(pdf.Table(("Item", "Severity", "Verdict", "By", "Reason", "Evidence"), rows,
                            (2.2, 0.9, 1.1, 0.9, 1.8, 2.4)))  # fmt: skip

    blocks.append(pdf.Heading("Waivers"))
    waived = [(s, s.waiver or s.expired_waiver) for s in current.items]
    waiver_rows = [
        [s.item.id, "valid" if s.waiver is not None else "EXPIRED", when(w.expires_at),
         f"{w.approver} ({w.approver_role})", w.justification]
        for s, w in waived if w is not None
    ]  # fmt: skip
    if waiver_rows:
        blocks.append(pdf.Table(("Item", "Status", "Expires", "Approved by", "Justification"),
                                waiver_rows, (1.5, 0.7, 2.0, 1.4, 2.4)))  # fmt: skip
    else:
        blocks.append(pdf.Paragraph("No waivers."))

    blocks.append(pdf.Heading("Attestations"))
    attested = [
        s for s in current.items if s.result is not None and s.result.source == "attestation"
    ]
    if attested:
        blocks.append(pdf.Table(("Item", "Verdict", "Attested", "When", "Note"), [
            [s.item.id, s.result.verdict.upper(),
             f"by {s.result.actor} for {s.item.owner.value}", when(s.result.ts), s.result.note]
            for s in attested if s.result is not None
        ], (1.8, 0.7, 1.6, 2.0, 2.0)))  # fmt: skip
    else:
        blocks.append(pdf.Paragraph("No attestations."))

    blocks.append(pdf.Heading("Sign-offs"))
    signoff_rows = []
    for role in current.required_roles:
        signed = current.signed.get(role)
        if signed is not None:
            signoff_rows.append([role, f"signed by {signed.who}", when(signed.ts), signed.note])
        else:
            signoff_rows.append([role, "NOT SIGNED", "", ""])
    for role, signed in current.signed.items():
        if role not in current.required_roles:
            signoff_rows.append([role, f"signed by {signed.who} (not required)",
                                 when(signed.ts), signed.note])  # fmt: skip
    for stale in current.stale_signoffs:
        signoff_rows.append([stale.role, f"VOID: signed by {stale.who} on an earlier state",
                             when(stale.ts), stale.note])  # fmt: skip
    blocks.append(pdf.Table(("Role", "Sign-off", "When", "Note"), signoff_rows,
                            (1.4, 2.4, 2.0, 2.0)))  # fmt: skip

    blocks += [pdf.Heading("Authorization"), pdf.Paragraph(_authorization(current))]

    blocks.append(pdf.Heading(f"Rollback ({ROLLBACK} runbook)"))
    blocks.append(pdf.Table(("Run", "Finished", "By", "Outcome", "Time against the RTO"), [
        list(_run_text(report.dry_run, "latest dry run")),
        list(_run_text(report.rehearsal, "latest rehearsal (real run)")),
    ], (1.2, 2.1, 0.7, 1.8, 2.6)))  # fmt: skip

    blocks += [
        pdf.Heading("Audit trail"),
        pdf.Paragraph(f"{report.audit.text}, at {when(report.audit.checked_at)}."),
    ]
    return pdf.Document(
        kind="Release report",
        title=f"{r.checklist} {r.version} ({r.environment})",
        subtitle=f"Target: {report.target or 'not set'}",
        footer=f"Release report · {r.checklist} {r.version} ({r.environment}) · "
        f"generated {when(report.generated_at)}",
        blocks=tuple(blocks),
    )


def _authorization(current: ReleaseState) -> str:
    if current.authorization is not None:
        a = current.authorization
        return f"deployment authorized by {a.who} at {when(a.ts)}"
    text = "not authorized"
    if current.voided_authorization is not None:
        v = current.voided_authorization
        text += (f" (the authorization by {v.who} at {when(v.ts)} was voided by a later "
                 "change to a blocking item)")  # fmt: skip
    if not current.authorizable:
        reasons = current.reasons_not_authorizable()
        shown = "; ".join(reasons[:5]) + (f"; and {len(reasons) - 5} more" if len(reasons) > 5
                                          else "")  # fmt: skip
        text += f"; not yet authorizable: {shown}"
    return text


# --- renderings -----------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(report: ReleaseReport) -> str:
    doc = document(report)
    lines = [f"# {doc.kind}: {doc.title}", ""]
    for block in doc.blocks:
        if isinstance(block, pdf.Heading):
            lines += [f"{'###' if block.minor else '##'} {block.text}", ""]
        elif isinstance(block, pdf.Paragraph):
            lines += [f"_{block.text}_" if block.small else block.text, ""]
        elif isinstance(block, pdf.Facts):
            lines += ["| | |", "| --- | --- |"]
            lines += [f"| **{_cell(label)}** | {_cell(value)} |" for label, value in block.rows]
            lines.append("")
        elif isinstance(block, pdf.Table):
            lines.append("| " + " | ".join(block.header) + " |")
            lines.append("|" + " --- |" * len(block.header))
            lines += ["| " + " | ".join(_cell(str(c)) for c in row) + " |" for row in block.rows]
            lines.append("")
    lines.append(f"_{doc.footer}_")
    return "\n".join(lines) + "\n"


def write_pdf(report: ReleaseReport, path: Path) -> Path:
    """The report as a PDF at ``path`` (the backtest reports' engine). Blocking."""
    generated = datetime.fromtimestamp(report.generated_at, UTC)
    return pdf.build_document(path, document(report), generated=generated)


def export(
    store: Store,
    checklist: Checklist,
    release: Release,
    *,
    fmt: str,
    folder: Path,
    configured_target: str,
    audit_key_file: Path,
    required_roles: Iterable[str] = DEFAULT_ROLES,
    now: float | None = None,
    actor: Principal | None = None,
) -> Path:
    """Write the release report (``fmt`` "pdf" or "markdown") into ``folder`` under a name
    that says what and when, and return its path: the console's export, audited as
    ``actor``'s when given. Blocking."""
    report = gather(store, checklist, release, configured_target=configured_target,
                    audit_key_file=audit_key_file, required_roles=required_roles,
                    now=now)  # fmt: skip
    stamp = datetime.fromtimestamp(report.generated_at, UTC).strftime("%Y%m%dT%H%M%SZ")
    version = "".join(c if c.isalnum() or c in "._-" else "_" for c in release.version)
    name = f"release-report-{checklist.id}-{version}-{release.environment}-{stamp}"
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "pdf":
        path = write_pdf(report, folder / f"{name}.pdf")
    else:
        path = folder / f"{name}.md"
        path.write_text(as_markdown(report), encoding="utf-8")
    if actor is not None:
        audit_export(store, actor, release, report, path)
    return path


def audit_export(store: Store, actor: Principal, release: Release, report: ReleaseReport,
                 path: Path) -> None:  # fmt: skip
    """Record who exported which release's report, where, and what it said: the report a
    release manager signs is itself on the trail."""
    record(store, actor, "check.report", str(release),
           {"path": str(path), "target": report.target, "ready": report.state.ready,
            "audit_verified": report.audit.ok})  # fmt: skip
