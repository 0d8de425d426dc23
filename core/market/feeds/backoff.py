"""Reconnect delays: capped exponential backoff with full jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

_MAX_EXPONENT = 60  # 2**60 dwarfs any cap; a bigger power would overflow a float


@dataclass
class Backoff:
    """``delay(attempt) = uniform(0, min(cap, base * 2**attempt))``, attempt counted from 0.

    Full jitter (rather than a fixed exponential) spreads the reconnects of
    many clients dropped at the same instant, so they do not return in step.
    Inject ``rng`` for deterministic tests.
    """

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.base <= 0:
            raise ValueError(f"backoff base must be positive, got {self.base!r}")
        if self.cap < self.base:
            raise ValueError(f"backoff cap {self.cap!r} is below its base {self.base!r}")

    def delay(self, attempt: int) -> float:
        ceiling = min(self.cap, self.base * 2 ** min(max(attempt, 0), _MAX_EXPONENT))
        return self.rng.uniform(0.0, ceiling)
