"""The readiness ledger: probe results, attestations, waivers, sign-offs and
authorizations of a release, in the store, each one an audit entry.

Every function blocks: call it from a worker thread. Refusals (an
attestation with no note, a waiver without an expiry in the future, an
authorization the release is not ready for) are ``LedgerError`` with a
message that says what is missing.

Each recording function takes the acting ``Principal`` and first asks
``core.guard.permit`` for its capability: a role that lacks it is refused
(``PermissionDenied``) and the refusal audited, whichever front end called.
Rows record the actor's name; audit entries also their source.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from sqlmodel import SQLModel, col, select

from checks.catalog import Checklist, Role
from checks.probes import ProbeResult
from checks.release import DEFAULT_ROLES, Release, ReleaseState, evaluate
from core.access import Capability, Principal
from core.events import Verdict
from core.guard import permit, record
from core.store import AuthorizationRow, CheckResultRow, SignoffRow, Store, WaiverRow

ATTESTABLE = frozenset({Verdict.PASS, Verdict.FAIL, Verdict.WARN})


class LedgerError(ValueError):
    """A request the ledger refuses; the message says why."""


def _release_rows(store: Store, model: type[SQLModel], release: Release) -> list[Any]:
    with store.session() as session:
        query = (
            select(model)
            .where(
                model.checklist == release.checklist,  # type: ignore[attr-defined]
                model.version == release.version,  # type: ignore[attr-defined]
                model.environment == release.environment,  # type: ignore[attr-defined]
            )
            .order_by(col(model.id))  # type: ignore[attr-defined]
        )
        return list(session.exec(query).all())


def state(
    store: Store, checklist: Checklist, release: Release, *,
    required_roles: Iterable[str] = DEFAULT_ROLES, now: float | None = None,
) -> ReleaseState:  # fmt: skip
    return evaluate(
        checklist, release,
        _release_rows(store, CheckResultRow, release), _release_rows(store, WaiverRow, release),
        _release_rows(store, SignoffRow, release), _release_rows(store, AuthorizationRow, release),
        time.time() if now is None else now, required_roles,
    )  # fmt: skip


def history(store: Store, release: Release, item_id: str) -> list[CheckResultRow]:
    """Every verdict on one item of a release, oldest first, with who gave it."""
    return [row for row in _release_rows(store, CheckResultRow, release) if row.item_id == item_id]


def _add(store: Store, row: SQLModel) -> None:
    with store.session() as session:
        session.add(row)
        session.commit()


def record_results(
    store: Store, release: Release, results: Mapping[str, ProbeResult], actor: Principal,
    target: str = "",
) -> None:  # fmt: skip
    """Store a probe run's results, each with the ``target`` it examined, and audit the
    run with its verdict counts and target."""
    permit(store, actor, Capability.RUN_CHECKS, "check.run", str(release))
    now = time.time()
    with store.session() as session:
        for item_id, result in results.items():
            session.add(CheckResultRow(
                checklist=release.checklist, version=release.version,
                environment=release.environment, item_id=item_id,
                verdict=result.verdict.value, reason=result.reason,
                evidence_json=json.dumps(result.evidence, sort_keys=True, default=str),
                source="probe", actor=actor.name, ts=now, target=target,
            ))  # fmt: skip
        session.commit()
    counts: dict[str, int] = {}
    for result in results.values():
        counts[result.verdict.value] = counts.get(result.verdict.value, 0) + 1
    record(store, actor, "check.run", str(release), {"verdicts": counts, "target": target})


def attest(
    store: Store, checklist: Checklist, release: Release, item_id: str, verdict: Verdict,
    actor: Principal, note: str, evidence: str = "", target: str = "",
) -> None:  # fmt: skip
    """A named person's verdict on a manual item, with a note, the evidence seen and the
    target (deployment) it was about."""
    permit(store, actor, Capability.ATTEST, "check.attest", f"{release} {item_id}")
    item = _item(checklist, item_id)
    if item.probe is not None:
        raise LedgerError(f"{item_id} is decided by the probe {item.probe}; run it instead")
    if verdict not in ATTESTABLE:
        raise LedgerError(f"an attestation is pass, warn or fail, not {verdict.value}")
    _require(who=actor.name, note=note)
    _add(store, CheckResultRow(
        checklist=release.checklist, version=release.version, environment=release.environment,
        item_id=item_id, verdict=verdict.value, reason=note,
        evidence_json=json.dumps({"evidence": evidence}), source="attestation", actor=actor.name,
        note=note, ts=time.time(), target=target,
    ))  # fmt: skip
    record(store, actor, "check.attest", f"{release} {item_id}",
                 {"verdict": verdict.value, "note": note, "evidence": evidence,
                  "target": target})  # fmt: skip


def waive(
    store: Store, checklist: Checklist, release: Release, item_id: str, justification: str,
    approver: Principal, approver_role: str, expires_at: float,
) -> None:  # fmt: skip
    """Accept an item for this release until ``expires_at``, on an approver's word
    (``approver_role`` is the checklist role they approve for)."""
    permit(store, approver, Capability.WAIVE, "check.waive", f"{release} {item_id}")
    _item(checklist, item_id)
    _require(approver=approver.name, justification=justification)
    _role(approver_role)
    if expires_at <= time.time():
        raise LedgerError("a waiver needs an expiry in the future")
    _add(store, WaiverRow(
        checklist=release.checklist, version=release.version, environment=release.environment,
        item_id=item_id, justification=justification, approver=approver.name,
        approver_role=approver_role, expires_at=expires_at, created_at=time.time(),
    ))  # fmt: skip
    record(store, approver, "check.waive", f"{release} {item_id}",
                 {"justification": justification, "role": approver_role,
                  "expires_at": expires_at})  # fmt: skip


def sign_off(
    store: Store, checklist: Checklist, release: Release, role: str, actor: Principal,
    note: str = "", required_roles: Iterable[str] = DEFAULT_ROLES,
) -> None:  # fmt: skip
    """A checklist role (``role``) signs the release as it stands now (its blocking items'
    fingerprint), by ``actor``."""
    permit(store, actor, Capability.SIGN_OFF, "check.signoff", str(release))
    _require(who=actor.name)
    _role(role)
    current = state(store, checklist, release, required_roles=required_roles)
    _add(store, SignoffRow(
        checklist=release.checklist, version=release.version, environment=release.environment,
        role=role, who=actor.name, note=note, fingerprint=current.fingerprint, ts=time.time(),
    ))  # fmt: skip
    record(store, actor, "check.signoff", str(release),
                 {"role": role, "note": note, "fingerprint": current.fingerprint})  # fmt: skip


def authorize(
    store: Store, checklist: Checklist, release: Release, actor: Principal,
    required_roles: Iterable[str] = DEFAULT_ROLES,
) -> ReleaseState:  # fmt: skip
    """Authorize deployment, if every blocking item is satisfied and every role signed."""
    permit(store, actor, Capability.AUTHORIZE, "deployment.authorize", str(release))
    _require(who=actor.name)
    current = state(store, checklist, release, required_roles=required_roles)
    if not current.authorizable:
        reasons = "; ".join(current.reasons_not_authorizable())
        record(store, actor, "deployment.refused", str(release), {"reasons": reasons})
        raise LedgerError(f"{release} cannot be authorized: {reasons}")
    _add(store, AuthorizationRow(
        checklist=release.checklist, version=release.version, environment=release.environment,
        who=actor.name, fingerprint=current.fingerprint, ts=time.time(),
    ))  # fmt: skip
    record(store, actor, "deployment.authorized", str(release),
                 {"fingerprint": current.fingerprint})  # fmt: skip
    return state(store, checklist, release, required_roles=required_roles)


def _item(checklist: Checklist, item_id: str) -> Any:
    try:
        return checklist.item(item_id)
    except KeyError:
        raise LedgerError(f"{checklist.id} has no item {item_id!r}") from None


def _role(role: str) -> None:
    known = [r.value for r in Role]
    if role not in known:
        raise LedgerError(f"unknown role {role!r} (known: {', '.join(known)})")


def _require(**fields: str) -> None:
    for name, value in fields.items():
        if not value or not value.strip():
            raise LedgerError(f"{name} is required")
