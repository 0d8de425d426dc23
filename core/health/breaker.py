"""Circuit breakers around outbound calls: feeds, the alert webhook, probe targets.

A breaker is closed while calls succeed. ``failures_to_open`` failures in a
row open it: calls are then refused at once, without touching the remote end,
for ``cooldown`` seconds. After that it is half-open: one trial call goes
through; its success closes the breaker, its failure opens it again for
another cool-down. A dead venue or webhook is thus asked once per cool-down
instead of on every retry, and the health pane and ``/metrics`` show which
remote end is down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from core.events import BreakerState, BreakerStatus


class CircuitOpen(Exception):
    """A call refused because its breaker is open; says which and for how long."""

    def __init__(self, name: str, retry_in: float) -> None:
        super().__init__(f"circuit open for {name}: not trying again for {retry_in:.0f} s")
        self.name = name
        self.retry_in = retry_in


class CircuitBreaker:
    """Thread-safe: probes call from worker threads, feeds from the loop."""

    def __init__(
        self,
        name: str,
        *,
        failures_to_open: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures_to_open < 1:
            raise ValueError(f"failures_to_open must be at least 1, got {failures_to_open}")
        if cooldown <= 0:
            raise ValueError(f"cooldown must be positive, got {cooldown}")
        self.name = name
        self.failures_to_open = failures_to_open
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures_in_a_row = 0
        self._opened_at = 0.0
        self._trial_running = False
        self.calls = self.failures = self.rejected = 0
        self.last_error = ""

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._current()

    def _current(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self.cooldown:
            self._state = BreakerState.HALF_OPEN
            self._trial_running = False
        return self._state

    def allow(self) -> bool:
        """Whether a call may go out now; a refusal is counted. In the half-open state
        the first caller gets the trial and everyone else waits for its outcome."""
        with self._lock:
            state = self._current()
            if state is BreakerState.CLOSED or (
                state is BreakerState.HALF_OPEN and not self._trial_running
            ):
                self._trial_running = state is BreakerState.HALF_OPEN
                self.calls += 1
                return True
            self.rejected += 1
            return False

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial through (0 when it would now)."""
        with self._lock:
            if self._current() is not BreakerState.OPEN:
                return 0.0
            return max(0.0, self.cooldown - (self._clock() - self._opened_at))

    def succeeded(self) -> None:
        with self._lock:
            self._state = BreakerState.CLOSED
            self._failures_in_a_row = 0
            self._trial_running = False

    def failed(self, error: str) -> None:
        with self._lock:
            self.failures += 1
            self.last_error = error
            self._failures_in_a_row += 1
            trial = self._current() is BreakerState.HALF_OPEN
            if trial or self._failures_in_a_row >= self.failures_to_open:
                self._state = BreakerState.OPEN
                self._opened_at = self._clock()
            self._trial_running = False

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Around one call: ``CircuitOpen`` instead of calling while open; an exception
        from the call counts as a failure (and goes on up), a clean exit as a success."""
        if not self.allow():
            raise CircuitOpen(self.name, self.retry_in())
        try:
            yield
        except BaseException as exc:
            self.failed(f"{type(exc).__name__}: {exc}")
            raise
        self.succeeded()

    def status(self) -> BreakerStatus:
        with self._lock:
            return BreakerStatus(self.name, self._current(), self.calls, self.failures,
                                 self.rejected, self.last_error)  # fmt: skip


class BreakerRegistry:
    """Every breaker of one Deck, by name, made on first use with the Deck's settings."""

    def __init__(
        self,
        *,
        failures_to_open: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._options = {"failures_to_open": failures_to_open, "cooldown": cooldown,
                         "clock": clock}  # fmt: skip
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> CircuitBreaker:
        with self._lock:
            breaker = self._breakers.get(name)
            if breaker is None:
                breaker = self._breakers[name] = CircuitBreaker(name, **self._options)  # type: ignore[arg-type]
            return breaker

    def statuses(self) -> list[BreakerStatus]:
        with self._lock:
            breakers = sorted(self._breakers.values(), key=lambda b: b.name)
        return [breaker.status() for breaker in breakers]
