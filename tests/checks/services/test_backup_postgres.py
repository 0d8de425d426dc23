"""database.backup on PostgreSQL dumps and encrypted backups: each restored for real, a
pg_dump into a scratch database on the real server, a gpg-encrypted file through its
decrypt command."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from checks.probes import Scope
from checks.probes.backup import BackupParams, backup
from checks.probes.reach import OutOfReach
from core.events import Verdict
from tests.postgres import PostgresServer, _binary

from .conftest import MakeContext

PASSPHRASE = "correct horse battery staple"


def seeded_database(postgres: PostgresServer, fills: int = 5) -> str:
    """A fresh database holding ``fills`` and ``jobs`` tables; its URL."""
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE fills (id integer PRIMARY KEY, price numeric)")
        connection.execute("CREATE TABLE jobs (id integer PRIMARY KEY)")
        connection.execute(
            "INSERT INTO fills SELECT n, 100 + n FROM generate_series(1, %s) AS n", (fills,)
        )
    return url


def pg_dump(url: str, path: Path, plain: bool = False) -> Path:
    form = "--format=plain" if plain else "--format=custom"
    subprocess.run([_binary("pg_dump"), form, "--file", str(path), "--dbname", url], check=True)
    return path


def gpg_encrypt(path: Path) -> Path:
    encrypted = path.with_name(path.name + ".gpg")
    subprocess.run(["gpg", "--batch", "--yes", "--quiet", "--pinentry-mode", "loopback",
                    "--passphrase", PASSPHRASE, "--symmetric", "--output", str(encrypted),
                    str(path)], check=True)  # fmt: skip
    path.unlink()
    return encrypted


def server_databases(postgres: PostgresServer) -> set[str]:
    with psycopg.connect(postgres.url()) as connection:
        return {row[0] for row in connection.execute("SELECT datname FROM pg_database")}


@pytest.fixture
def target_ctx(make_ctx: MakeContext, postgres: PostgresServer, tmp_path: Path):
    def make(**fields: object):
        fields.setdefault("database_url", postgres.url())
        fields.setdefault("backup_dir", tmp_path / "backups")
        return make_ctx(scope=Scope.TARGET_DATABASE, **fields)

    (tmp_path / "backups").mkdir()
    return make


@pytest.mark.parametrize("plain", [False, True], ids=["custom", "plain"])
async def test_a_pg_dump_restores_into_a_scratch_database_then_dropped(
    postgres: PostgresServer, target_ctx, tmp_path: Path, plain: bool
) -> None:
    dump = pg_dump(seeded_database(postgres, fills=5), tmp_path / "backups" / "db.dump", plain)
    before = server_databases(postgres)
    params = BackupParams(pattern="*.dump", max_restore_seconds=120)
    result = await backup(target_ctx(), params)
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["format"] == ("pg_dump plain SQL" if plain else "pg_dump custom")
    assert result.evidence["row_counts"] == {"fills": 5, "jobs": 0}
    assert result.reason.startswith(f"{dump.name}, 0.0 h old, restores intact in ")
    assert server_databases(postgres) == before  # the scratch database is gone


async def test_a_dump_without_the_store_tables_fails(
    postgres: PostgresServer, target_ctx, tmp_path: Path
) -> None:
    pg_dump(postgres.new_database(), tmp_path / "backups" / "empty.dump")
    result = await backup(target_ctx(), BackupParams(pattern="*.dump"))
    assert result.verdict is Verdict.FAIL
    assert result.reason == "empty.dump lacks table(s) fills, jobs"


async def test_a_truncated_dump_fails_with_pg_restores_words(
    postgres: PostgresServer, target_ctx, tmp_path: Path
) -> None:
    dump = pg_dump(seeded_database(postgres), tmp_path / "backups" / "cut.dump")
    dump.write_bytes(dump.read_bytes()[:300])
    result = await backup(target_ctx(), BackupParams(pattern="*.dump"))
    assert result.verdict is Verdict.FAIL
    assert result.reason.startswith("cut.dump does not restore: pg_restore exited 1: ")


async def test_a_restore_slower_than_the_recovery_objective_fails(
    postgres: PostgresServer, target_ctx, tmp_path: Path
) -> None:
    pg_dump(seeded_database(postgres), tmp_path / "backups" / "db.dump")
    result = await backup(target_ctx(), BackupParams(pattern="*.dump", max_restore_seconds=1e-6))
    assert result.verdict is Verdict.FAIL
    assert result.reason == (
        "restoring db.dump took over the 1e-06 s recovery time objective (stopped there)"
    )


async def test_an_encrypted_dump_restores_through_its_decrypt_command(
    postgres: PostgresServer, target_ctx, tmp_path: Path
) -> None:
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE)
    encrypted = gpg_encrypt(pg_dump(seeded_database(postgres, fills=3),
                                    tmp_path / "backups" / "db.dump"))  # fmt: skip
    without_key = await backup(target_ctx(), BackupParams(pattern="*.gpg"))
    assert without_key.verdict is Verdict.FAIL
    assert without_key.reason == (f"{encrypted.name} does not restore: it is encrypted (gpg): "
                                  "give the item's decrypt_command to restore it")  # fmt: skip
    command = ["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase-file",
               str(secret), "--decrypt", "{file}"]  # fmt: skip
    result = await backup(target_ctx(), BackupParams(pattern="*.gpg", decrypt_command=command))
    assert result.verdict is Verdict.PASS, result.reason
    assert result.evidence["row_counts"] == {"fills": 3, "jobs": 0}
    secret.write_text("wrong")
    wrong = await backup(target_ctx(), BackupParams(pattern="*.gpg", decrypt_command=command))
    assert wrong.verdict is Verdict.FAIL
    assert wrong.reason.startswith(f"{encrypted.name} does not restore: decrypt_command exited 2")


async def test_a_pg_dump_without_the_targets_database_is_out_of_reach(
    postgres: PostgresServer, target_ctx, tmp_path: Path
) -> None:
    pg_dump(seeded_database(postgres), tmp_path / "backups" / "db.dump")
    with pytest.raises(OutOfReach) as caught:
        await backup(target_ctx(database_url=None), BackupParams(pattern="*.dump"))
    assert caught.value.setting == "database_url"
