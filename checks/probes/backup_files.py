"""What a backup file is, read from its first bytes: a database dump, a compressed one or
an encrypted one (and by what tool), without trusting its name."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path


class BackupFormat(StrEnum):
    SQLITE = "sqlite"  # a SQLite database file (the backup API's copy)
    PG_CUSTOM = "pg_dump custom"  # pg_dump -Fc, restored with pg_restore
    PG_PLAIN = "pg_dump plain SQL"  # pg_dump's default, restored with psql
    GZIP = "gzip"  # compressed, readable by anyone who has the file
    GPG = "gpg"
    AGE = "age"
    OPENSSL = "openssl enc"
    UNKNOWN = "unknown"

    @property
    def encrypted(self) -> bool | None:
        """True for an encrypted format, False for a readable one, None when unknown."""
        if self is BackupFormat.UNKNOWN:
            return None
        return self in {BackupFormat.GPG, BackupFormat.AGE, BackupFormat.OPENSSL}


#: OpenPGP packets an encrypted message starts with: a public-key or symmetric-key
#: encrypted session key (tags 1 and 3), in the old and the new packet format (RFC 4880
#: section 4.2).
_OPENPGP_FIRST_BYTES = {0x84, 0x85, 0x86, 0x8C, 0x8D, 0x8E, 0xC1, 0xC3}


def backup_format(head: bytes) -> BackupFormat:
    """The format of a file starting with ``head`` (its first 64 bytes are enough)."""
    if head.startswith(b"SQLite format 3\x00"):
        return BackupFormat.SQLITE
    if head.startswith(b"PGDMP"):
        return BackupFormat.PG_CUSTOM
    if head.startswith(b"--\n-- PostgreSQL database dump"):
        return BackupFormat.PG_PLAIN
    if head.startswith(b"\x1f\x8b"):
        return BackupFormat.GZIP
    if head.startswith(b"age-encryption.org/") or head.startswith(b"-----BEGIN AGE ENCRYPTED"):
        return BackupFormat.AGE
    if head.startswith(b"Salted__"):
        return BackupFormat.OPENSSL
    if head.startswith(b"-----BEGIN PGP MESSAGE") or (head and head[0] in _OPENPGP_FIRST_BYTES):
        return BackupFormat.GPG
    return BackupFormat.UNKNOWN


def file_format(path: Path) -> BackupFormat:
    with path.open("rb") as file:
        return backup_format(file.read(64))


def backups_newest_first(directory: Path, pattern: str) -> list[Path]:
    """The files in ``directory`` matching ``pattern``, newest (by mtime) first."""
    files = [path for path in directory.glob(pattern) if path.is_file()]
    return sorted(files, key=lambda path: path.stat().st_mtime, reverse=True)
