"""Reconnect delays: full jitter over a capped exponential."""

from __future__ import annotations

import random

import pytest

from core.market.feeds import Backoff


def test_backoff_delays_are_uniform_draws_under_the_capped_exponential() -> None:
    backoff = Backoff(base=0.5, cap=4.0, rng=random.Random(3))
    reference = random.Random(3)
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    delays = [backoff.delay(attempt) for attempt in range(6)]
    assert delays == [reference.uniform(0.0, c) for c in ceilings]
    assert all(0.0 <= d <= c for d, c in zip(delays, ceilings, strict=True))


def test_backoff_after_very_many_attempts_stays_at_the_cap() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(1))
    assert 0.0 <= backoff.delay(10_000) <= 30.0


def test_backoff_refuses_a_cap_below_its_base() -> None:
    with pytest.raises(ValueError, match="cap"):
        Backoff(base=2.0, cap=1.0)
