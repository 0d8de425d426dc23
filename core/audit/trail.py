"""An append-only audit trail in the store, each entry chained to the one before.

Every entry's ``hash`` is the SHA-256 of the previous entry's hash and the
entry's own fields in a canonical JSON form, so changing, removing or
reordering any entry breaks every hash after it, and ``verify_trail`` names
the first entry that no longer fits. (A chain shows tampering; it does not
prevent someone with write access rewriting the whole chain: copy the head
hash somewhere else, such as a release ticket, to pin it.)

Functions here block: call them from a worker thread.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from core.store import AuditRow, Store

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts: float
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    hash: str


class Tampered(Exception):
    """The trail does not verify; the message names the first entry that breaks it."""


def _digest(previous: str, ts: float, actor: str, action: str, subject: str,
            detail_json: str) -> str:  # fmt: skip
    body = json.dumps([previous, repr(ts), actor, action, subject, detail_json],
                      ensure_ascii=False, separators=(",", ":"))  # fmt: skip
    return hashlib.sha256(body.encode()).hexdigest()


def append_entry(
    store: Store, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Add one entry after the newest, in one transaction (a concurrent writer waits)."""
    if not actor.strip() or not action.strip():
        raise ValueError("an audit entry needs an actor and an action")
    detail_json = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False)
    with store.session() as session:
        if store.is_sqlite:
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")  # serialise the chain
        last = session.exec(select(AuditRow).order_by(col(AuditRow.seq).desc()).limit(1)).first()
        previous = last.hash if last is not None else GENESIS
        ts = time.time()
        row = AuditRow(ts=ts, actor=actor, action=action, subject=subject,
                       detail_json=detail_json, prev_hash=previous,
                       hash=_digest(previous, ts, actor, action, subject, detail_json))  # fmt: skip
        session.add(row)
        session.commit()
        session.refresh(row)
    return _entry(row)


def read_entries(store: Store, action_prefix: str = "") -> list[AuditEntry]:
    with store.session() as session:
        query = select(AuditRow).order_by(col(AuditRow.seq))
        if action_prefix:
            query = query.where(col(AuditRow.action).startswith(action_prefix))
        return [_entry(row) for row in session.exec(query).all()]


def verify_trail(store: Store) -> int:
    """The number of entries, all verified; ``Tampered`` names the first that is not."""
    previous = GENESIS
    count = 0
    with store.session() as session:
        for row in session.exec(select(AuditRow).order_by(col(AuditRow.seq))).all():
            expected = _digest(previous, row.ts, row.actor, row.action, row.subject,
                               row.detail_json)  # fmt: skip
            if row.prev_hash != previous or row.hash != expected:
                raise Tampered(f"audit entry {row.seq} ({row.action} by {row.actor}) does not "
                               f"follow from the one before it")  # fmt: skip
            previous = row.hash
            count += 1
    return count


def _entry(row: AuditRow) -> AuditEntry:
    assert row.seq is not None
    return AuditEntry(row.seq, row.ts, row.actor, row.action, row.subject,
                      json.loads(row.detail_json), row.hash)  # fmt: skip
