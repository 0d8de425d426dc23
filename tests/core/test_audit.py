"""The audit trail's hash chain: appends from many writers verify; any edit is found."""

import threading
from pathlib import Path

import pytest

from core.audit import (
    Tampered,
    append_entry,
    load_or_create_key,
    read_entries,
    sign_checkpoint,
    verify_audit,
    verify_trail,
)
from core.store import Store


def test_entries_chain_and_verify(store: Store) -> None:
    first = append_entry(store, "alice", "checklist.attest", "deploy/tls", {"note": "ok ✓"})
    second = append_entry(store, "retention", "export.deleted", "/x/report.pdf")
    assert verify_trail(store) == 2
    entries = read_entries(store)
    assert [e.seq for e in entries] == [first.seq, second.seq]
    assert entries[0].detail == {"note": "ok ✓"}
    assert [e.action for e in read_entries(store, "export.")] == ["export.deleted"]
    with pytest.raises(ValueError, match="actor and an action"):
        append_entry(store, " ", "x", "y")


def test_concurrent_writers_keep_one_chain(store: Store) -> None:
    def write(who: str) -> None:
        for i in range(25):
            append_entry(store, who, "test.write", str(i))

    threads = [threading.Thread(target=write, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert verify_trail(store) == 100


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit SET actor = 'mallory' WHERE seq = 2",
        'UPDATE audit SET detail_json = \'{"note": "changed"}\' WHERE seq = 2',
        "DELETE FROM audit WHERE seq = 2",
        "UPDATE audit SET ts = ts + 1 WHERE seq = 2",
    ],
)
def test_any_edit_is_found_and_named(store: Store, tamper: str) -> None:
    for i in range(4):
        append_entry(store, "alice", "test.write", str(i), {"note": str(i)})
    with store.engine.begin() as connection:  # a writer going round the trail
        connection.exec_driver_sql(tamper)
    with pytest.raises(Tampered, match=r"audit entry [23] \("):
        verify_trail(store)


def test_signed_checkpoints_pin_the_head_against_rewrites(store: Store, tmp_path: Path) -> None:
    key = tmp_path / "keys" / "audit.pem"
    for i in range(3):
        append_entry(store, "alice", "test.write", str(i))
    first = sign_checkpoint(store, key)
    assert first is not None and first.entries == 3
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert sign_checkpoint(store, key) is None  # nothing new to sign
    append_entry(store, "bob", "test.write", "3")
    assert sign_checkpoint(store, key).entries == 4
    verified = verify_audit(store, key)
    assert (verified.entries, verified.checkpoints, verified.last_checkpoint_at) == (4, 2, 4)

    # Rewrite the whole chain from entry 3 on, consistently: the chain alone verifies,
    # the checkpoint does not.
    with store.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit WHERE seq >= 3")
    append_entry(store, "mallory", "test.write", "rewritten")
    append_entry(store, "mallory", "test.write", "rewritten too")
    assert verify_trail(store) == 4
    with pytest.raises(Tampered, match="no longer has the signed head"):
        verify_audit(store, key)


def test_a_checkpoint_signed_by_another_key_is_refused(store: Store, tmp_path: Path) -> None:
    append_entry(store, "alice", "test.write", "0")
    sign_checkpoint(store, tmp_path / "other.pem")
    with pytest.raises(Tampered, match="no key at"):
        verify_audit(store, tmp_path / "mine.pem")
    load_or_create_key(tmp_path / "mine.pem")
    with pytest.raises(Tampered, match="signature does not verify"):
        verify_audit(store, tmp_path / "mine.pem")


def _deleted(store: Store, *statements: str) -> None:
    with store.engine.begin() as connection:  # a writer going round the trail
        for statement in statements:
            connection.exec_driver_sql(statement)


def _signed_trail(store: Store, key: Path, entries: int = 16) -> None:
    for i in range(entries):
        append_entry(store, "alice", "test.write", str(i))
        if i in (7, entries - 1):
            sign_checkpoint(store, key)


def test_deleting_the_tail_with_every_checkpoint_is_found_by_the_head_file(
    store: Store, tmp_path: Path
) -> None:
    key = tmp_path / "keys" / "audit.pem"
    _signed_trail(store, key)
    assert verify_audit(store, key).pinned_at == 16
    _deleted(store, "DELETE FROM audit WHERE seq > 10", "DELETE FROM audit_checkpoints")
    assert verify_trail(store) == 10  # the chain alone cannot tell
    with pytest.raises(Tampered, match=r"no longer has the signed head entry 16 \(16 entries\), "
                                       r"pinned in .*audit\.head-[0-9a-f]{16}\.json"):  # fmt: skip
        verify_audit(store, key)
    # and a new checkpoint does not launder the loss
    append_entry(store, "mallory", "test.write", "after")
    with pytest.raises(Tampered, match="no longer has the signed head"):
        sign_checkpoint(store, key)
    with pytest.raises(Tampered, match="no longer has the signed head"):
        verify_audit(store, key)


def test_deleting_only_the_checkpoints_is_found_too(store: Store, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    _signed_trail(store, key)
    _deleted(store, "DELETE FROM audit_checkpoints")
    with pytest.raises(Tampered, match=r"checkpoint of the signed head entry 16 .* is gone from "
                                       "the database: checkpoints were deleted"):  # fmt: skip
        verify_audit(store, key)


def test_an_edited_head_file_does_not_verify(store: Store, tmp_path: Path) -> None:
    import json

    from core.audit.head import head_file

    key = tmp_path / "audit.pem"
    _signed_trail(store, key)
    path = head_file(key, store)
    document = json.loads(path.read_text())
    path.write_text(json.dumps({**document, "entries": 3, "head_seq": 3}))
    with pytest.raises(Tampered, match=r"head file .* does not verify with this key"):
        verify_audit(store, key)
    path.write_text("{not json")
    with pytest.raises(Tampered, match=r"head file .* cannot be read"):
        verify_audit(store, key)


def test_a_trail_signed_before_head_files_verifies_and_is_pinned_at_the_next_signing(
    store: Store, tmp_path: Path
) -> None:
    from core.audit.head import head_file

    key = tmp_path / "audit.pem"
    _signed_trail(store, key)
    head_file(key, store).unlink()  # as a trail checkpointed by an earlier version
    assert verify_audit(store, key).pinned_at is None
    assert sign_checkpoint(store, key) is None  # nothing new to sign, but the head is pinned
    assert verify_audit(store, key).pinned_at == 16
