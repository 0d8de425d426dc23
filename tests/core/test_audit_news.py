"""What the console needs from the audit trail: appends announced on the bus, the broken
entry's number, the newest checkpoint's id and time, and the newest entries only."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.announce import announce_audit
from core.audit import (
    Tampered,
    append_entry,
    read_entries,
    sign_checkpoint,
    verify_audit,
    watch_appends,
)
from core.bus import Bus
from core.events import AuditAppended
from core.store import Store


def test_watchers_hear_each_append_after_it_commits(store: Store) -> None:
    heard = []
    stop = watch_appends(store, lambda entry: heard.append(read_entries(store)[-1] == entry))
    append_entry(store, "alice", "risk.kill", "run-1", {"why": "drill"})
    stop()
    append_entry(store, "alice", "risk.reset", "run-1")
    assert heard == [True]


def test_a_failing_watcher_does_not_undo_the_append(store: Store) -> None:
    def broken(entry: object) -> None:
        raise RuntimeError("watcher bug")

    stop = watch_appends(store, broken)
    try:
        append_entry(store, "alice", "risk.kill", "run-1")
    finally:
        stop()
    assert [e.action for e in read_entries(store)] == ["risk.kill"]


async def test_appends_from_a_thread_reach_the_bus(store: Store) -> None:
    bus = Bus()
    bus.attach(asyncio.get_running_loop())
    subscription = bus.subscribe(AuditAppended)
    stop = announce_audit(store, bus)
    await asyncio.to_thread(append_entry, store, "bob", "check.attest", "r1 tls", {"note": "ok"})
    event = await asyncio.wait_for(subscription.get(), 10)
    stop()
    assert (event.entry.actor, event.entry.action, event.entry.detail) == (
        "bob", "check.attest", {"note": "ok"},
    )  # fmt: skip
    assert event.entry.prev_hash == "0" * 64


def test_appends_before_the_bus_is_attached_are_not_announced_and_do_not_fail(
    store: Store,
) -> None:
    stop = announce_audit(store, Bus())
    append_entry(store, "alice", "risk.kill", "run-1")
    stop()
    assert len(read_entries(store)) == 1


def test_tampering_names_the_entry_by_number(store: Store, tmp_path: Path) -> None:
    for i in range(4):
        append_entry(store, "alice", "test.write", str(i))
    with store.engine.begin() as connection:  # a writer going round the trail
        connection.exec_driver_sql("UPDATE audit SET actor = 'mallory' WHERE seq = 3")
    with pytest.raises(Tampered) as caught:
        verify_audit(store, tmp_path / "audit.pem")
    assert caught.value.seq == 3


def test_verified_names_the_newest_checkpoint(store: Store, tmp_path: Path) -> None:
    key = tmp_path / "audit.pem"
    append_entry(store, "alice", "test.write", "1")
    sign_checkpoint(store, key)
    append_entry(store, "alice", "test.write", "2")
    newest = sign_checkpoint(store, key)
    assert newest is not None
    verified = verify_audit(store, key)
    assert (verified.entries, verified.checkpoints, verified.last_checkpoint_at) == (2, 2, 2)
    assert (verified.last_checkpoint_id, verified.last_checkpoint_ts) == (newest.id, newest.ts)


def test_read_entries_limit_keeps_the_newest_oldest_first(store: Store) -> None:
    for i in range(5):
        append_entry(store, "alice", "test.write", str(i))
    assert [e.subject for e in read_entries(store, limit=2)] == ["3", "4"]
    assert len(read_entries(store)) == 5
