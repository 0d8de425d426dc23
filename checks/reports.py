"""A release's readiness as JSON, JUnit XML (for CI) and Markdown (for a ticket).

Waived items are reported as waived, with their justification, approver and
expiry; nothing waived is hidden.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from checks.release import ItemState, ReleaseState


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _reason(state: ItemState) -> str:
    if state.result is not None:
        return state.result.reason
    if state.item.probe is None:
        return f"needs attestation by {state.item.owner.value}"
    return "not run"


def _waiver(state: ItemState) -> dict[str, Any] | None:
    waiver = state.waiver or state.expired_waiver
    if waiver is None:
        return None
    return {"justification": waiver.justification, "approver": waiver.approver,
            "role": waiver.approver_role, "expires_at": _when(waiver.expires_at),
            "valid": state.waiver is not None}  # fmt: skip


def as_json(release: ReleaseState) -> dict[str, Any]:
    r = release.release
    return {
        "checklist": r.checklist, "version": r.version, "environment": r.environment,
        "target": release.targets[0] if release.targets else None, "targets": release.targets,
        "ready": release.ready, "authorizable": release.authorizable,
        "authorized": release.authorization is not None,
        "missing_roles": release.missing_roles,
        "signoffs": [{"role": role, "who": row.who, "note": row.note, "at": _when(row.ts)}
                     for role, row in release.signed.items()],
        "authorization": ({"who": release.authorization.who,
                           "at": _when(release.authorization.ts)}
                          if release.authorization is not None else None),
        "items": [
            {"id": s.item.id, "title": s.item.title, "section": s.item.section,
             "severity": s.item.severity.value, "kind": s.item.kind.value,
             "scope": _scope(s),
             "status": s.status, "verdict": s.verdict, "reason": _reason(s),
             "actor": s.result.actor if s.result else None,
             "target": s.result.target if s.result else None,
             "evidence": json.loads(s.result.evidence_json) if s.result else {},
             "waiver": _waiver(s)}
            for s in release.items
        ],
    }  # fmt: skip


def as_junit(release: ReleaseState, elapsed: dict[str, float] | None = None) -> str:
    """One test suite, one test case per item. A blocking item that is neither satisfied
    nor waived is a failure (an ERROR verdict an error); an unsatisfied advisory item is
    a skipped case, so CI shows it without failing on it."""
    elapsed = elapsed or {}
    items = release.items
    failures = [s for s in items if s.blocking and not s.satisfied and s.verdict != "error"]
    errors = [s for s in items if s.blocking and not s.satisfied and s.verdict == "error"]
    skipped = [s for s in items if not s.blocking and not s.satisfied]
    suite = ET.Element("testsuite", {
        "name": f"{release.release.checklist} {release.release.version}",
        "tests": str(len(items)), "failures": str(len(failures)), "errors": str(len(errors)),
        "skipped": str(len(skipped)),
        "time": f"{sum(elapsed.values()):.3f}",
    })  # fmt: skip
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="environment", value=release.release.environment)
    ET.SubElement(properties, "property", name="target", value=release.target)
    ET.SubElement(properties, "property", name="ready", value=str(release.ready).lower())
    for state in items:
        case = ET.SubElement(suite, "testcase", {
            "classname": f"{release.release.checklist}.{state.item.section}",
            "name": f"{state.item.id}: {state.item.title}",
            "time": f"{elapsed.get(state.item.id, 0.0):.3f}",
        })  # fmt: skip
        evidence = state.result.evidence_json if state.result else ""
        if state in failures:
            ET.SubElement(
                case, "failure", message=_reason(state), type=state.verdict
            ).text = evidence
        elif state in errors:
            ET.SubElement(case, "error", message=_reason(state), type="error").text = evidence
        elif state in skipped:
            ET.SubElement(case, "skipped", message=f"advisory, {state.verdict}: {_reason(state)}")
        waiver = _waiver(state)
        if waiver is not None:
            ET.SubElement(case, "system-out").text = (
                f"waived{'' if waiver['valid'] else ' (EXPIRED)'}: {waiver['justification']} "
                f"- {waiver['approver']} ({waiver['role']}), until {waiver['expires_at']}"
            )
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def as_markdown(release: ReleaseState) -> str:
    r = release.release
    verdict = "READY" if release.ready else "NOT READY"
    if release.authorization is not None:
        verdict += f", deployment authorized by {release.authorization.who}"
    lines = [
        f"# Readiness: {r.checklist} {r.version} ({r.environment})", "",
        f"Target: {release.target}", "",
        f"**{verdict}**. {len(release.blocking_failures)} blocking item(s) unsatisfied; "
        f"sign-offs missing: {', '.join(release.missing_roles) or 'none'}.", "",
        "| Item | Examines | Severity | Status | Reason |", "| --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for s in release.items:
        mark = "" if s.satisfied or not s.blocking else " ❌"
        lines.append(f"| `{s.item.id}` {_cell(s.item.title)} | {_scope(s)} | "
                     f"{s.item.severity.value} | "
                     f"{s.status}{mark} | {_cell(_reason(s))} |")  # fmt: skip
    waived = [(s, _waiver(s)) for s in release.items if _waiver(s) is not None]
    if waived:
        lines += ["", "## Waivers", ""]
        for s, w in waived:
            assert w is not None
            status = "valid" if w["valid"] else "EXPIRED"
            lines.append(f"- `{s.item.id}` ({status}, until {w['expires_at']}): "
                         f"{w['justification']} - {w['approver']}, {w['role']}")  # fmt: skip
    lines.append("")
    return "\n".join(lines)


def _scope(state: ItemState) -> str:
    """What the item examines (a catalog item always has a scope once loaded)."""
    return state.item.scope.value if state.item.scope is not None else "manual"


def summary_line(state: ItemState) -> str:
    """One terminal line per item: status, id, reason."""
    flag = "!" if state.blocking and not state.satisfied else " "
    return f"{flag} {state.status:<8} {state.item.id:<40} {_reason(state)}"
