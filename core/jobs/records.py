"""The job tables as the job managers and the command line use them.

Every function here blocks: call it from a worker thread. Several processes
may share one store (the console, ``quarterdeck jobs work``, the command
line); they coordinate through the rows alone. A job belongs to the process
named in its ``owner`` while that process keeps its ``heartbeat_at`` fresh;
taking a job over is a compare-and-set on ``owner``, so two managers never
run the same job.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from core.events import JobPriority, JobState, JobUpdate
from core.store import JobCheckpointRow, JobControlRow, JobRow, Store

UNFINISHED = (JobState.QUEUED.value, JobState.RUNNING.value, JobState.PAUSED.value)
#: An owner silent this long is gone (owners beat every ``HEARTBEAT`` seconds).
HEARTBEAT = 2.0
STALE_AFTER = 10.0


def owner_name() -> str:
    """This process, as ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_is_gone(owner: str | None, heartbeat_at: float | None, now: float) -> bool:
    """True when nobody runs the job: no owner, a silent one, or (on this host) a
    process that no longer exists, which needs no wait."""
    if owner is None:
        return True
    if heartbeat_at is None or heartbeat_at < now - STALE_AFTER:
        return True
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def insert_job(store: Store, row: JobRow) -> int:
    with store.session() as session:
        session.add(row)
        session.commit()
        session.refresh(row)
    assert row.id is not None
    return row.id


def claim_free_jobs(store: Store, owner: str, skip: Iterable[int]) -> list[JobRow]:
    """Take over every unfinished job nobody runs (oldest first), except ``skip``."""
    now = time.time()
    skipped = set(skip)
    claimed: list[JobRow] = []
    with store.session() as session:
        rows = session.exec(
            select(JobRow).where(col(JobRow.state).in_(UNFINISHED)).order_by(col(JobRow.id))
        ).all()
        for row in rows:
            if row.id in skipped or not owner_is_gone(row.owner, row.heartbeat_at, now):
                continue
            seen = col(JobRow.owner).is_(None) if row.owner is None else JobRow.owner == row.owner
            taken = session.execute(
                update(JobRow)
                .where(JobRow.id == row.id, seen)  # type: ignore[arg-type]
                .values(owner=owner, heartbeat_at=now)
            )
            session.commit()
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                row.owner, row.heartbeat_at = owner, now
                claimed.append(row)
    return claimed


def checkpoints(store: Store, job_id: int) -> list[Any]:
    """The payloads a job saved, oldest first."""
    with store.session() as session:
        rows = session.exec(
            select(JobCheckpointRow.payload_json)
            .where(JobCheckpointRow.job_id == job_id)
            .order_by(col(JobCheckpointRow.id))
        ).all()
    return [json.loads(text) for text in rows]


def take_controls(store: Store, job_ids: Iterable[int]) -> list[JobControlRow]:
    """Requests not yet handled for these jobs, oldest first, marked handled now."""
    ids = list(job_ids)
    if not ids:
        return []
    with store.session() as session:
        rows = session.exec(
            select(JobControlRow)
            .where(col(JobControlRow.job_id).in_(ids), col(JobControlRow.handled_at).is_(None))
            .order_by(col(JobControlRow.id))
        ).all()
        for row in rows:
            row.handled_at = time.time()
            session.add(row)
        session.commit()
    return list(rows)


def request_control(
    store: Store, job_id: int, action: str, requested_by: str, value: str | None = None
) -> None:
    with store.session() as session:
        session.add(
            JobControlRow(
                job_id=job_id,
                action=action,
                value=value,
                requested_by=requested_by,
                requested_at=time.time(),
            )
        )
        session.commit()


def cancel_unowned(store: Store, job_id: int, reason: str) -> bool:
    """Cancel a job no process runs, in the store directly; False if one does."""
    values = {"state": JobState.CANCELLED.value, "note": reason, "finished_at": time.time()}
    return change_unowned(store, job_id, values)


def change_unowned(store: Store, job_id: int, values: dict[str, Any]) -> bool:
    """Change an unfinished job no process runs, in the store directly (a compare-and-set
    on its owner); False if a process runs it, or it is finished or missing."""
    now = time.time()
    with store.session() as session:
        row = session.get(JobRow, job_id)
        if row is None or row.state not in UNFINISHED:
            return False
        if not owner_is_gone(row.owner, row.heartbeat_at, now):
            return False
        seen = col(JobRow.owner).is_(None) if row.owner is None else JobRow.owner == row.owner
        done = session.execute(
            update(JobRow)
            .where(JobRow.id == job_id, seen)  # type: ignore[arg-type]
            .values(owner=None, **values)
        )
        session.commit()
    return done.rowcount == 1  # type: ignore[attr-defined]


def list_jobs(store: Store, state: str | None = None, limit: int = 100) -> list[JobRow]:
    with store.session() as session:
        query = select(JobRow).order_by(col(JobRow.id).desc()).limit(limit)
        if state is not None:
            query = query.where(JobRow.state == state)
        return list(session.exec(query).all())


def finished_jobs(store: Store, limit: int) -> list[JobRow]:
    """The newest ``limit`` finished jobs (done, failed or cancelled), newest first."""
    with store.session() as session:
        query = (
            select(JobRow)
            .where(col(JobRow.state).not_in(UNFINISHED))
            .order_by(col(JobRow.id).desc())
            .limit(limit)
        )
        return list(session.exec(query).all())


def update_of(row: JobRow) -> JobUpdate:
    """A stored job as the ``JobUpdate`` a view shows: its summary is the result's, else
    its error, else its note (a row keeps no summary of its own)."""
    assert row.id is not None
    result = json.loads(row.result_json) if row.result_json else {}
    summary = str(result.get("summary") or row.error or row.note or "")
    priority = JobPriority(row.priority if row.priority is not None else JobPriority.NORMAL)
    return JobUpdate(row.id, row.kind, row.title, JobState(row.state), row.done, row.total,
                     0.0, None, summary, priority)  # fmt: skip


def get_job(store: Store, job_id: int) -> JobRow | None:
    with store.session() as session:
        return session.get(JobRow, job_id)
