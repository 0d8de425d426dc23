"""The monitoring port's token buckets, on a hand-driven clock."""

from __future__ import annotations

import pytest

from core.health.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_allowed_then_refused_until_a_token_is_due() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") == pytest.approx(0.5)
    clock.now += 0.25
    assert limiter.acquire("a") == pytest.approx(0.25)
    clock.now += 0.25
    assert limiter.acquire("a") == 0.0


def test_clients_have_their_own_buckets() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, clock=Clock())
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0
    assert limiter.acquire("b") == 0.0


def test_a_bucket_refills_only_to_the_burst() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, clock=clock)
    limiter.acquire("a")
    clock.now += 3600
    assert [limiter.acquire("a") for _ in range(3)][-1] > 0


def test_a_full_table_forgets_idle_clients_and_refuses_while_none_is() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=1.0, burst=2, max_clients=2, clock=clock)
    limiter.acquire("a")
    limiter.acquire("b")
    assert limiter.acquire("c") > 0  # a and b are still draining: no room
    clock.now += 2.0  # both refilled: forgotten to make room
    assert limiter.acquire("c") == 0.0
    assert limiter.acquire("d") == 0.0


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (-1.0, 1), (1.0, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        RateLimiter(rate=rate, burst=burst)
