"""Lockout bookkeeping with a hand-wound clock."""

from __future__ import annotations

from console.lockout import Lockout


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_fifth_failure_in_the_window_locks_the_user_and_the_address() -> None:
    clock = Clock()
    lockout = Lockout(clock=clock)
    verdicts = []
    for _ in range(5):
        assert lockout.remaining("alice", "10.0.0.1") == 0
        verdicts.append(lockout.failure("alice", "10.0.0.1"))
        clock.now += 10
    assert verdicts == [False, False, False, False, True]
    assert lockout.remaining("alice", "10.0.0.1") > 0
    assert lockout.remaining("alice", "10.9.9.9") > 0  # the user, from anywhere
    assert lockout.remaining("bob", "10.0.0.1") > 0  # anyone, from that address
    assert lockout.remaining("bob", "10.9.9.9") == 0


def test_lock_lasts_five_minutes_then_lifts() -> None:
    clock = Clock()
    lockout = Lockout(clock=clock)
    for _ in range(5):
        lockout.failure("alice", "10.0.0.1")
    assert lockout.remaining("alice", "10.0.0.1") == 300
    clock.now += 299
    assert lockout.remaining("alice", "10.0.0.1") == 1
    clock.now += 1
    assert lockout.remaining("alice", "10.0.0.1") == 0


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    clock = Clock()
    lockout = Lockout(clock=clock)
    for _ in range(12):
        assert not lockout.failure("alice", "10.0.0.1")
        clock.now += 76  # any five failures span 304 s: more than the window
    assert lockout.remaining("alice", "10.0.0.1") == 0


def test_many_names_from_one_address_lock_it() -> None:
    lockout = Lockout(clock=Clock())
    results = [lockout.failure(name, "10.0.0.7") for name in ("a", "b", "c", "d", "e")]
    assert results[-1] is True
    assert lockout.remaining("zed", "10.0.0.7") > 0


def test_one_name_from_many_addresses_locks_the_name() -> None:
    lockout = Lockout(clock=Clock())
    results = [lockout.failure("alice", f"10.0.0.{n}") for n in range(5)]
    assert results[-1] is True
    assert lockout.remaining("alice", "192.168.1.1") > 0


def test_success_clears_the_count_but_not_a_lock() -> None:
    clock = Clock()
    lockout = Lockout(clock=clock)
    for _ in range(4):
        lockout.failure("alice", "10.0.0.1")
    lockout.success("alice", "10.0.0.1")
    assert not lockout.failure("alice", "10.0.0.1")  # counting starts again
    for _ in range(4):
        lockout.failure("alice", "10.0.0.1")
    assert lockout.remaining("alice", "10.0.0.1") > 0
    lockout.success("alice", "10.0.0.1")
    assert lockout.remaining("alice", "10.0.0.1") > 0


def test_a_flood_of_names_is_bounded() -> None:
    lockout = Lockout(clock=Clock(), max_tracked=100)
    for n in range(1_000):
        lockout.failure(f"user{n}", f"10.{n // 250}.{n % 250}.1")
    assert len(lockout._failures) <= 100


def test_a_failure_without_a_user_counts_against_the_address_only() -> None:
    clock = Clock()
    lockout = Lockout(clock=clock)
    for _ in range(4):
        assert not lockout.failure(None, "10.0.0.1")
    assert lockout.failure("alice", "10.0.0.1")  # the fifth from that address
    assert lockout.remaining(None, "10.0.0.1") > 0
    assert lockout.remaining(None, "10.0.0.2") == 0
    assert lockout.remaining("alice", "10.0.0.2") > 0  # alice was named by the fifth
