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
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, select

from core.store import AuditRow, Store

GENESIS = "0" * 64
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    ts: float
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]
    hash: str
    prev_hash: str = ""


class Tampered(Exception):
    """The trail does not verify; the message names the first entry that breaks it,
    and ``seq`` is that entry's number when there is one."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


AppendListener = Callable[[AuditEntry], None]
_listeners: weakref.WeakKeyDictionary[Store, list[AppendListener]] = weakref.WeakKeyDictionary()


def watch_appends(store: Store, listener: AppendListener) -> Callable[[], None]:
    """Call ``listener`` with each entry appended through ``store`` (in this process),
    after its transaction commits, on the appending thread. Returns the unwatch.

    A listener must not block; one that raises is logged and the append stands.
    """
    _listeners.setdefault(store, []).append(listener)

    def unwatch() -> None:
        listeners = _listeners.get(store, [])
        if listener in listeners:
            listeners.remove(listener)

    return unwatch


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
        _serialise_writers(store, session)
        last = session.exec(select(AuditRow).order_by(col(AuditRow.seq).desc()).limit(1)).first()
        previous = last.hash if last is not None else GENESIS
        ts = time.time()
        row = AuditRow(ts=ts, actor=actor, action=action, subject=subject,
                       detail_json=detail_json, prev_hash=previous,
                       hash=_digest(previous, ts, actor, action, subject, detail_json))  # fmt: skip
        session.add(row)
        session.commit()
        session.refresh(row)
    entry = _entry(row)
    for listener in tuple(_listeners.get(store, ())):
        try:
            listener(entry)
        except Exception:
            log.exception("an audit append listener failed")
    return entry


def _serialise_writers(store: Store, session: Session) -> None:
    """Hold the trail's write lock until this transaction ends, so two writers never
    chain onto the same head: SQLite takes its database write lock up front;
    PostgreSQL takes a table lock that conflicts with itself but not with readers."""
    if store.is_sqlite:
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    else:
        session.connection().exec_driver_sql("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE")


def read_entries(
    store: Store, action_prefix: str = "", limit: int | None = None, offset: int = 0
) -> list[AuditEntry]:
    """Entries oldest first; with ``limit``, only the newest ``limit`` of them; with
    ``offset``, leaving out the newest ``offset`` first (paging back in time)."""
    with store.session() as session:
        query = select(AuditRow).order_by(col(AuditRow.seq).desc())
        if action_prefix:
            query = query.where(col(AuditRow.action).startswith(action_prefix))
        if offset:
            query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return [_entry(row) for row in reversed(session.exec(query).all())]


def count_entries(store: Store, action_prefix: str = "") -> int:
    """How many entries there are (whose action starts with ``action_prefix``)."""
    with store.session() as session:
        query = select(func.count()).select_from(AuditRow)
        if action_prefix:
            query = query.where(col(AuditRow.action).startswith(action_prefix))
        return int(session.exec(query).one())


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
                               f"follow from the one before it", row.seq)  # fmt: skip
            previous = row.hash
            count += 1
    return count


def _entry(row: AuditRow) -> AuditEntry:
    assert row.seq is not None
    return AuditEntry(row.seq, row.ts, row.actor, row.action, row.subject,
                      json.loads(row.detail_json), row.hash, row.prev_hash)  # fmt: skip
