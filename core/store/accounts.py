"""The paper accounts: which one is active under a name, who holds it, and resets.

An account continues across every run of Quarterdeck until someone resets it
on purpose; a reset archives the account (kept, still readable) and opens a
new one. The process trading an account says so in ``holder`` and refreshes
``held_at``, so a reset can refuse while it runs.
"""

from __future__ import annotations

import os
import socket
import time
import uuid

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.store.database import Store
from core.store.tables import AccountRow

#: A holder on another host that has not been seen for this long is gone.
HOLD_TIMEOUT = 30.0


class AccountInUse(Exception):
    """The account is being traded by a running process; the message names it."""


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def find_active(store: Store, name: str) -> AccountRow | None:
    with store.session() as session:
        return session.exec(_active(name)).first()


def accounts(store: Store, name: str | None = None) -> list[AccountRow]:
    """Every account (of ``name``), the newest first; archived ones included."""
    query = select(AccountRow).order_by(col(AccountRow.created_at).desc())
    if name is not None:
        query = query.where(AccountRow.name == name)
    with store.session() as session:
        return list(session.exec(query))


def get_account(store: Store, account_id: str) -> AccountRow | None:
    with store.session() as session:
        return session.get(AccountRow, account_id)


def hold(store: Store, account_id: str, holder: str | None) -> None:
    """Say that ``holder`` trades the account now (None: nobody does any more)."""
    values = {"holder": holder, "held_at": time.time() if holder else None}
    with store.session() as session, session.begin():
        session.execute(update(AccountRow).where(AccountRow.id == account_id).values(**values))


def held_elsewhere(row: AccountRow, now: float | None = None) -> bool:
    """Whether another process that still runs trades ``row``: a process of this host
    is asked directly; one elsewhere is trusted while it has been seen lately."""
    if not row.holder or row.holder == this_process():
        return False
    host, _, pid = row.holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return (now or time.time()) - (row.held_at or 0.0) < HOLD_TIMEOUT


def take(store: Store, name: str, starting_cash: float) -> AccountRow:
    """The active account of ``name`` (opened if there is none), now held by this
    process. ``AccountInUse`` if another running process trades it."""
    with store.session() as session, session.begin():
        row = session.exec(_active(name)).first()
        if row is None:
            row = _new(name, starting_cash)
        elif held_elsewhere(row):
            raise AccountInUse(
                f"account {row.id} is being traded by {row.holder} (seen "
                f"{time.time() - (row.held_at or 0.0):.0f} s ago): one process per account"
            )
        row.holder, row.held_at = this_process(), time.time()
        session.add(row)
        return row


def reset_account(
    store: Store, name: str, who: str, why: str, starting_cash: float
) -> tuple[AccountRow | None, AccountRow]:
    """Archive the active account of ``name`` (who, when, why) and open a new one with
    ``starting_cash``. ``AccountInUse`` while a running process trades it."""
    now = time.time()
    with store.session() as session, session.begin():
        old = session.exec(_active(name)).first()
        if old is not None:
            if held_elsewhere(old, now):
                raise AccountInUse(
                    f"account {old.id} is being traded by {old.holder}: stop that "
                    "process (serve or the console) first, then reset"
                )
            old.archived_at, old.archived_by, old.archive_reason = now, who, why
            old.holder = old.held_at = None
            session.add(old)
            session.flush()
        new = _new(name, starting_cash, now)
        session.add(new)
    return old, new


def _active(name: str) -> SelectOfScalar[AccountRow]:
    return (
        select(AccountRow)
        .where(AccountRow.name == name, col(AccountRow.archived_at).is_(None))
        .order_by(col(AccountRow.created_at).desc())
    )


def _new(name: str, starting_cash: float, now: float | None = None) -> AccountRow:
    return AccountRow(id=f"{name}-{uuid.uuid4().hex[:8]}", name=name,
                      starting_cash=starting_cash, created_at=now or time.time())  # fmt: skip
