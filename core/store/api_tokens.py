"""The control API's refresh tokens and revocations, kept in the store so that a
restart (or another process on the same database) honours them.

A token family begins at a token exchange; every refresh marks its token used and
adds the next one to the family. Revoking a family stops its refresh tokens and the
access tokens issued with them (they carry the family). Rows are deleted once they
have expired, when whatever they stop has expired too.

Functions here block: call them from a worker thread.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, update
from sqlmodel import col, func, select

from core.store.database import Store
from core.store.tables import ApiRefreshTokenRow, ApiRevocationRow


def add_refresh(store: Store, row: ApiRefreshTokenRow) -> None:
    """Store a new family's first refresh token, and forget whatever has expired."""
    with store.session() as session, session.begin():
        for table in (ApiRefreshTokenRow, ApiRevocationRow):
            session.execute(delete(table).where(col(table.expires_at) < row.issued_at))
        session.add(row)


def refresh_row(store: Store, token_id: str) -> ApiRefreshTokenRow | None:
    with store.session() as session:
        return session.get(ApiRefreshTokenRow, token_id)


def rotate(store: Store, used: ApiRefreshTokenRow, successor: ApiRefreshTokenRow) -> bool:
    """Mark ``used`` used and store its ``successor``, in one transaction; False (nothing
    written) when ``used`` was used already, by a request that came first."""
    with store.session() as session, session.begin():
        marked = session.execute(
            update(ApiRefreshTokenRow)
            .where(col(ApiRefreshTokenRow.id) == used.id, col(ApiRefreshTokenRow.used_at).is_(None))
            .values(used_at=successor.issued_at)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            return False
        session.add(successor)
    return True


def revoked(store: Store, *, jti: str | None = None, family: str | None = None) -> bool:
    """Whether the access token ``jti`` or the family ``family`` is revoked."""
    wanted = [col(ApiRevocationRow.jti) == jti] if jti else []
    wanted += [col(ApiRevocationRow.family) == family] if family else []
    if not wanted:
        return False
    with store.session() as session:
        return session.exec(select(ApiRevocationRow.id).where(or_(*wanted)).limit(1)).first() \
            is not None  # fmt: skip


def revoke_access(store: Store, jti: str, *, now: float, expires_at: float) -> None:
    with store.session() as session, session.begin():
        session.add(ApiRevocationRow(jti=jti, revoked_at=now, expires_at=expires_at))


def revoke_issued(
    store: Store, user: str, *, key_id: str | None = None, now: float, access_seconds: float
) -> int:
    """Revoke every family issued to ``user`` (with the API key ``key_id`` only, if
    given) that has a refresh token still valid; returns how many."""
    query = select(ApiRefreshTokenRow.family).where(
        col(ApiRefreshTokenRow.user) == user, col(ApiRefreshTokenRow.expires_at) > now
    )
    if key_id is not None:
        query = query.where(col(ApiRefreshTokenRow.key_id) == key_id)
    with store.session() as session:
        families = sorted(set(session.exec(query)))
    revoke_families(store, families, now=now, access_seconds=access_seconds)
    return len(families)


def revoke_families(
    store: Store, families: list[str], *, now: float, access_seconds: float
) -> None:
    if not families:
        return
    with store.session() as session, session.begin():
        last: dict[str, float] = dict(session.execute(
            select(ApiRefreshTokenRow.family, func.max(ApiRefreshTokenRow.expires_at))
            .where(col(ApiRefreshTokenRow.family).in_(families))
            .group_by(col(ApiRefreshTokenRow.family))
        ).all())  # fmt: skip
        for family in families:
            until = max(last.get(family, now), now + access_seconds)
            session.add(ApiRevocationRow(family=family, revoked_at=now, expires_at=until))
