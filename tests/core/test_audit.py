"""The audit trail's hash chain: appends from many writers verify; any edit is found."""

import sqlite3
import threading
from pathlib import Path

import pytest

from core.audit import Tampered, append_entry, read_entries, verify_trail
from core.store import Store


@pytest.fixture
def store(tmp_path: Path):
    store = Store(f"sqlite:///{tmp_path / 'audit.db'}")
    store.create_schema()
    yield store
    store.dispose()


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
    database = store.engine.url.database
    with sqlite3.connect(database) as connection:
        connection.execute(tamper)
    with pytest.raises(Tampered, match=r"audit entry [23] \("):
        verify_trail(store)
