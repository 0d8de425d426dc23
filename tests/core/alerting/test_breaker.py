"""Circuit breakers: closed, open after failures in a row, one trial when half-open."""

from __future__ import annotations

import threading

import pytest

from core.events import BreakerState
from core.health.breaker import BreakerRegistry, CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_failures_in_a_row_open_it_and_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker("venue", failures_to_open=3, cooldown=10, clock=Clock())
    for _ in range(2):
        assert breaker.allow()
        breaker.failed("refused")
    breaker.succeeded()  # the count starts again
    for _ in range(2):
        breaker.failed("refused")
    assert breaker.state is BreakerState.CLOSED
    breaker.failed("timed out")
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow() and breaker.rejected == 1
    status = breaker.status()
    assert (status.failures, status.last_error, status.calls) == (5, "timed out", 2)


def test_after_the_cooldown_one_trial_decides() -> None:
    clock = Clock()
    breaker = CircuitBreaker("hook", failures_to_open=1, cooldown=30, clock=clock)
    breaker.failed("HTTP 503")
    clock.now = 29.9
    assert breaker.state is BreakerState.OPEN and breaker.retry_in() == pytest.approx(0.1)
    clock.now = 30.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # everyone else waits for it
    breaker.failed("HTTP 503")  # the trial failed: open for another cool-down
    assert breaker.state is BreakerState.OPEN and breaker.retry_in() == 30.0
    clock.now = 60.0
    assert breaker.allow()
    breaker.succeeded()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()


def test_guard_counts_exceptions_as_failures_and_refuses_while_open() -> None:
    breaker = CircuitBreaker("probe", failures_to_open=2, cooldown=5, clock=Clock())
    for _ in range(2):
        with pytest.raises(ConnectionRefusedError), breaker.guard():
            raise ConnectionRefusedError("no")
    with pytest.raises(CircuitOpen, match="circuit open for probe"), breaker.guard():
        pytest.fail("the call must not be made while open")
    assert breaker.last_error == "ConnectionRefusedError: no"


def test_threads_share_one_breaker_safely() -> None:
    breaker = CircuitBreaker("shared", failures_to_open=10_000, cooldown=1)

    def hammer() -> None:
        for _ in range(1000):
            if breaker.allow():
                breaker.failed("x")

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert breaker.calls == breaker.failures == 4000


def test_the_registry_makes_each_breaker_once_and_lists_them_by_name() -> None:
    registry = BreakerRegistry(failures_to_open=1, cooldown=1)
    assert registry.get("b") is registry.get("b")
    registry.get("a").failed("down")
    assert [(s.name, s.state) for s in registry.statuses()] == [
        ("a", BreakerState.OPEN), ("b", BreakerState.CLOSED),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="failures_to_open"):
        CircuitBreaker("x", failures_to_open=0)
