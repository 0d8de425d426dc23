"""database.backup_policy: backups on a schedule, encrypted, judged from real files (gpg,
openssl and age formats made by the real tools where this machine has them)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from checks.probes import Scope
from checks.probes.backup import BackupPolicyParams, backup_policy
from checks.probes.backup_files import BackupFormat, backup_format
from core.events import Verdict

from .conftest import MakeContext

HOUR = 3600.0


def encrypted_file(path: Path, tool: str) -> Path:
    """A small file encrypted by ``tool`` (gpg or openssl), at ``path``."""
    plain = path.with_suffix(".plain")
    plain.write_bytes(b"SQLite format 3\x00" + os.urandom(512))
    if tool == "gpg":
        command = ["gpg", "--batch", "--yes", "--quiet", "--pinentry-mode", "loopback",
                   "--passphrase", "p", "--symmetric", "--output", str(path),
                   str(plain)]  # fmt: skip
    else:
        command = ["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-pass", "pass:p",
                   "-in", str(plain), "-out", str(path)]  # fmt: skip
    subprocess.run(command, check=True)
    plain.unlink()
    return path


def aged(path: Path, hours: float) -> Path:
    then = time.time() - hours * HOUR
    os.utime(path, (then, then))
    return path


def directory_of(tmp_path: Path, ages: list[float], tool: str = "gpg") -> Path:
    directory = tmp_path / "backups"
    directory.mkdir()
    for index, hours in enumerate(ages):
        aged(encrypted_file(directory / f"db-{index}.bak", tool), hours)
    return directory


@pytest.mark.parametrize("tool", ["gpg", "openssl"])
async def test_nightly_encrypted_backups_pass(tmp_path: Path, make_ctx: MakeContext, tool: str):
    ctx = make_ctx(
        scope=Scope.TARGET_DATABASE, backup_dir=directory_of(tmp_path, [3, 27, 51], tool)
    )
    result = await backup_policy(ctx, BackupPolicyParams())
    assert result.verdict is Verdict.PASS, result.reason
    how = "gpg" if tool == "gpg" else "openssl enc"
    assert result.reason == f"3 backups, at most 24.0 h apart (schedule 24 h), encrypted ({how})"
    assert [entry["file"] for entry in result.evidence["backups"]] == ["db-0.bak", "db-1.bak",
                                                                       "db-2.bak"]  # fmt: skip


async def test_a_stopped_schedule_fails(tmp_path: Path, make_ctx: MakeContext) -> None:
    ctx = make_ctx(scope=Scope.TARGET_DATABASE, backup_dir=directory_of(tmp_path, [50, 74, 98]))
    result = await backup_policy(ctx, BackupPolicyParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "a gap of 50.0 h between backups, over 36 h (24 h x 1.5)"


async def test_too_few_backups_fail(tmp_path: Path, make_ctx: MakeContext) -> None:
    ctx = make_ctx(scope=Scope.TARGET_DATABASE, backup_dir=directory_of(tmp_path, [1]))
    result = await backup_policy(ctx, BackupPolicyParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == (
        "1 backup(s) matching '*', fewer than the 3 a schedule would have left"
    )


async def test_plaintext_backups_fail_naming_their_format(
    tmp_path: Path, make_ctx: MakeContext
) -> None:
    directory = directory_of(tmp_path, [2, 26])
    (directory / "db-plain.db").write_bytes(b"SQLite format 3\x00" + bytes(100))
    aged(directory / "db-plain.db", 0.5)
    ctx = make_ctx(scope=Scope.TARGET_DATABASE, backup_dir=directory)
    result = await backup_policy(ctx, BackupPolicyParams())
    assert result.verdict is Verdict.FAIL
    assert result.reason == "not encrypted: db-plain.db (sqlite)"
    unjudged = await backup_policy(ctx, BackupPolicyParams(encrypted=False))
    assert unjudged.verdict is Verdict.PASS


async def test_an_unknown_format_is_a_warning(tmp_path: Path, make_ctx: MakeContext) -> None:
    directory = directory_of(tmp_path, [10, 34])
    (directory / "mystery.bin").write_bytes(b"\x00\x01 not a format I know")
    aged(directory / "mystery.bin", 1)
    ctx = make_ctx(scope=Scope.TARGET_DATABASE, backup_dir=directory)
    result = await backup_policy(ctx, BackupPolicyParams())
    assert result.verdict is Verdict.WARN
    assert result.reason.startswith("cannot tell whether mystery.bin is encrypted")


async def test_no_backup_dir_is_an_error(make_ctx: MakeContext) -> None:
    result = await backup_policy(make_ctx(scope=Scope.TARGET_DATABASE), BackupPolicyParams())
    assert result.verdict is Verdict.ERROR
    assert "QD_CHECK_BACKUP_DIR" in result.reason


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"SQLite format 3\x00", BackupFormat.SQLITE),
        (b"PGDMP\x01\x0e", BackupFormat.PG_CUSTOM),
        (b"--\n-- PostgreSQL database dump\n", BackupFormat.PG_PLAIN),
        (b"\x1f\x8b\x08", BackupFormat.GZIP),
        (b"age-encryption.org/v1\n-> X25519", BackupFormat.AGE),
        (b"-----BEGIN PGP MESSAGE-----", BackupFormat.GPG),
        (b"Salted__12345678", BackupFormat.OPENSSL),
        (b"", BackupFormat.UNKNOWN),
    ],
)
def test_formats_are_read_from_the_first_bytes(head: bytes, expected: BackupFormat) -> None:
    assert backup_format(head) is expected
