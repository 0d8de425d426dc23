"""Backup probes: the newest backup is recent and restores (timed, against the recovery
time objective), and backups are taken on a schedule and encrypted."""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from pydantic import Field

from checks.probes.backup_files import BackupFormat, backups_newest_first, file_format
from checks.probes.backup_restore import (
    Restored,
    RestoreError,
    RestoreTimeout,
    decrypt,
    restore_postgres,
    restore_sqlite,
)
from checks.probes.base import ProbeContext, ProbeParams, ProbeResult, Scope
from checks.probes.reach import database_engine
from checks.probes.registry import probe
from core.events import Verdict

#: How long a restore may run when the item sets no recovery time objective.
MAX_RESTORE_SECONDS = 600.0
NO_BACKUP_DIR = "target.backup_dir is not set: give it with QD_CHECK_BACKUP_DIR"


class BackupParams(ProbeParams):
    max_age_hours: float = Field(default=24.0, gt=0)
    pattern: str = Field(default="*.db", min_length=1)
    # Tables a restored backup must hold (the store's names); each one's rows are counted.
    tables: list[str] = Field(default_factory=lambda: ["fills", "jobs"])
    #: Turns an encrypted backup into plaintext on standard output; ``{file}`` is its path,
    #: e.g. ["gpg", "--batch", "--decrypt", "--passphrase-file", "/etc/backup.key", "{file}"].
    decrypt_command: list[str] = Field(default_factory=list)
    #: The recovery time objective: a restore taking longer FAILs. None: not judged.
    max_restore_seconds: float | None = Field(default=None, gt=0)


def _restore(
    ctx: ProbeContext, backup: Path, params: BackupParams
) -> tuple[BackupFormat, Restored]:
    """Decrypt (if need be) and restore ``backup``; its format and what the copy holds."""
    timeout = params.max_restore_seconds or MAX_RESTORE_SECONDS
    with tempfile.TemporaryDirectory(prefix="qd-backup-check-") as scratch_dir:
        scratch = Path(scratch_dir)
        kind = file_format(backup)
        if kind.encrypted:
            if not params.decrypt_command:
                raise RestoreError(f"it is encrypted ({kind}): give the item's "
                                   "decrypt_command to restore it")  # fmt: skip
            backup = decrypt(backup, params.decrypt_command, scratch, timeout)
            kind = file_format(backup)
        if kind is BackupFormat.SQLITE:
            return kind, restore_sqlite(backup, scratch, params.tables)
        if kind in (BackupFormat.PG_CUSTOM, BackupFormat.PG_PLAIN):
            with database_engine(ctx) as server:
                return kind, restore_postgres(backup, kind, server, params.tables, timeout)
        raise RestoreError(f"it is no backup this probe can restore ({kind}): a SQLite "
                           "database or a pg_dump (custom or plain), encrypted or not")  # fmt: skip


@probe(
    "database.backup", scopes=(Scope.TARGET_DATABASE,), params=BackupParams, needs=("backup_dir",)
)
async def backup(ctx: ProbeContext, params: BackupParams) -> ProbeResult:
    """The newest database backup is recent and restores intact, holding the store's
    tables: a SQLite copy, or a pg_dump restored into a scratch database."""
    directory = ctx.target.backup_dir
    if directory is None:
        return ProbeResult(Verdict.ERROR, NO_BACKUP_DIR)
    evidence: dict[str, object] = {
        "backup_dir": str(directory),
        "pattern": params.pattern,
        "max_age_hours": params.max_age_hours,
    }
    if not directory.is_dir():
        return ProbeResult(Verdict.FAIL, f"backup directory {directory} does not exist", evidence)
    found = await asyncio.to_thread(backups_newest_first, directory, params.pattern)
    if not found:
        reason = f"no backup matching {params.pattern!r} in {directory}"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    newest = found[0]
    stat = newest.stat()
    age_hours = (time.time() - stat.st_mtime) / 3600.0
    evidence.update(
        file=str(newest),
        size_bytes=stat.st_size,
        modified=dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC).isoformat(),
        age_hours=round(age_hours, 2),
    )
    started = time.perf_counter()
    try:
        kind, restored = await asyncio.to_thread(_restore, ctx, newest, params)
    except RestoreTimeout as exc:
        evidence["restore_error"] = str(exc)
        limit = params.max_restore_seconds or MAX_RESTORE_SECONDS
        what = "recovery time objective" if params.max_restore_seconds else "limit of this probe"
        reason = f"restoring {newest.name} took over the {limit:g} s {what} (stopped there)"
        return ProbeResult(Verdict.FAIL, reason, evidence)
    except RestoreError as exc:
        evidence["restore_error"] = str(exc)
        return ProbeResult(Verdict.FAIL, f"{newest.name} does not restore: {exc}", evidence)
    restore_seconds = time.perf_counter() - started
    evidence.update(restored.as_evidence(), format=str(kind),
                    restore_seconds=round(restore_seconds, 3))  # fmt: skip
    failures = _findings(newest.name, age_hours, restore_seconds, restored, params)
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    counts = ", ".join(f"{t} {n}" for t, n in restored.row_counts.items()) or "no tables checked"
    reason = (f"{newest.name}, {age_hours:.1f} h old, restores intact in "
              f"{restore_seconds:.1f} s ({counts})")  # fmt: skip
    return ProbeResult(Verdict.PASS, reason, evidence)


def _findings(name: str, age_hours: float, restore_seconds: float, restored: Restored,
              params: BackupParams) -> list[str]:  # fmt: skip
    failures: list[str] = []
    if age_hours > params.max_age_hours:
        failures.append(f"{name} is {age_hours:.1f} h old (max {params.max_age_hours:g} h)")
    if restored.integrity != "ok":
        failures.append(f"{name} fails integrity_check: {restored.integrity}")
    if restored.missing_tables:
        failures.append(f"{name} lacks table(s) {', '.join(restored.missing_tables)}")
    if params.max_restore_seconds is not None and restore_seconds > params.max_restore_seconds:
        failures.append(f"restoring {name} took {restore_seconds:.1f} s, over the "
                        f"{params.max_restore_seconds:g} s recovery time objective")  # fmt: skip
    return failures


class BackupPolicyParams(ProbeParams):
    pattern: str = Field(default="*", min_length=1)
    #: Backups are taken at least this often; a gap of more than ``interval_hours`` times
    #: ``tolerance`` between two of the last ``min_backups`` (or since the newest) FAILs.
    interval_hours: float = Field(default=24.0, gt=0)
    tolerance: float = Field(default=1.5, ge=1.0)
    min_backups: int = Field(default=3, ge=1)
    encrypted: bool = True


def _recent(directory: Path, pattern: str, count: int) -> list[tuple[Path, float, BackupFormat]]:
    """The newest ``count`` backups: each file, its mtime and its format."""
    newest = backups_newest_first(directory, pattern)[:count]
    return [(path, path.stat().st_mtime, file_format(path)) for path in newest]


@probe("database.backup_policy", scopes=(Scope.TARGET_DATABASE,), params=BackupPolicyParams,
       needs=("backup_dir",))  # fmt: skip
async def backup_policy(ctx: ProbeContext, params: BackupPolicyParams) -> ProbeResult:
    """Backups are taken on a schedule (the last few at regular intervals, the newest
    within one) and are encrypted (read from each file's first bytes, not its name)."""
    directory = ctx.target.backup_dir
    if directory is None:
        return ProbeResult(Verdict.ERROR, NO_BACKUP_DIR)
    evidence: dict[str, object] = {"backup_dir": str(directory), "pattern": params.pattern,
                                   "interval_hours": params.interval_hours}  # fmt: skip
    if not directory.is_dir():
        return ProbeResult(Verdict.FAIL, f"backup directory {directory} does not exist", evidence)
    recent = await asyncio.to_thread(_recent, directory, params.pattern, params.min_backups)
    now = time.time()
    formats = {path.name: kind for path, _, kind in recent}
    times = [mtime for _, mtime, _ in recent]
    gaps = [(newer - older) / 3600.0 for newer, older in zip([now, *times], times, strict=False)]
    evidence["backups"] = [
        {"file": path.name, "format": str(formats[path.name]),
         "age_hours": round((now - mtime) / 3600, 2)}
        for path, mtime, _ in recent
    ]  # fmt: skip
    failures: list[str] = []
    if len(recent) < params.min_backups:
        failures.append(f"{len(recent)} backup(s) matching {params.pattern!r}, fewer than the "
                        f"{params.min_backups} a schedule would have left")  # fmt: skip
    limit = params.interval_hours * params.tolerance
    if gaps and max(gaps) > limit:
        failures.append(f"a gap of {max(gaps):.1f} h between backups, over {limit:g} h "
                        f"({params.interval_hours:g} h x {params.tolerance:g})")  # fmt: skip
    unknown: list[str] = []
    if params.encrypted:
        plain = [f"{name} ({kind})" for name, kind in formats.items() if kind.encrypted is False]
        unknown = [name for name, kind in formats.items() if kind.encrypted is None]
        if plain:
            failures.append(f"not encrypted: {', '.join(plain)}")
    if failures:
        return ProbeResult(Verdict.FAIL, "; ".join(failures), evidence)
    if unknown:
        reason = (f"cannot tell whether {', '.join(unknown)} is encrypted: no format it "
                  "knows (gpg, age, openssl enc)")  # fmt: skip
        return ProbeResult(Verdict.WARN, reason, evidence)
    how = ", ".join(sorted({str(kind) for kind in formats.values()}))
    reason = (f"{len(recent)} backups, at most {max(gaps):.1f} h apart (schedule "
              f"{params.interval_hours:g} h)")  # fmt: skip
    if params.encrypted:
        reason += f", encrypted ({how})"
    return ProbeResult(Verdict.PASS, reason, evidence)
