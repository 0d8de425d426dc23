"""The signal vocabulary and the building blocks strategy kernels share."""

from __future__ import annotations

import numpy as np
import pytest

from core.research.signals import (
    EXIT_LONG,
    EXIT_SHORT,
    FLAT,
    HOLD,
    LONG,
    SHORT,
    apply_direction,
    band_signals,
    event_signals,
    level_signals,
    oscillator_signals,
    state_signals,
    target_position,
    thrust_signals,
    zone_crossover_signals,
)

H = HOLD


def arr(*xs: float) -> np.ndarray:
    return np.array(xs, dtype=np.float64)


@pytest.mark.parametrize(
    ("signal", "position", "target"),
    [
        (LONG, 0, LONG), (LONG, 1, H), (LONG, -1, LONG),
        (SHORT, 1, SHORT), (SHORT, -1, H),
        (FLAT, 1, FLAT), (FLAT, 0, H),
        (EXIT_LONG, 1, FLAT), (EXIT_LONG, -1, H), (EXIT_LONG, 0, H),
        (EXIT_SHORT, -1, FLAT), (EXIT_SHORT, 1, H),
        (H, 1, H),
    ],
)  # fmt: skip
def test_target_position_follows_the_signal_only_when_it_asks_for_a_change(
    signal: int, position: int, target: int
) -> None:
    assert target_position(signal, position) == target


def test_apply_direction_narrows_both_sided_signals() -> None:
    raw = np.array([LONG, SHORT, EXIT_LONG, EXIT_SHORT, FLAT, H], dtype=np.int8)
    np.testing.assert_array_equal(apply_direction(raw, 0), raw)
    np.testing.assert_array_equal(apply_direction(raw, 1), [LONG, FLAT, EXIT_LONG, H, FLAT, H])
    np.testing.assert_array_equal(apply_direction(raw, -1), [FLAT, SHORT, H, EXIT_SHORT, FLAT, H])


def test_level_crossings_are_pine_style_at_or_below_then_above() -> None:
    # 50 -> 60 crosses 50 from "at"; 60 -> 40 crosses 45 down; 40 -> 45 touches only
    np.testing.assert_array_equal(
        level_signals(arr(np.nan, 50, 60, 40, 45), 50.0, 45.0), [H, H, LONG, SHORT, H]
    )


def test_oscillator_signals_enter_at_extremes_and_exit_at_the_middle() -> None:
    rsi = arr(50, 25, 40, 55, 75, 60, 45)
    np.testing.assert_array_equal(
        oscillator_signals(rsi, 30.0, 70.0, 50.0),
        [H, LONG, H, EXIT_LONG, SHORT, H, EXIT_SHORT],
    )


def test_band_breakout_exits_only_the_side_it_entered() -> None:
    close = arr(10, 12, 10.5, 9.5, 8, 10.5)
    upper = np.full(6, 11.0)
    lower = np.full(6, 9.0)
    middle = np.full(6, 10.0)
    np.testing.assert_array_equal(
        band_signals(close, lower, upper, middle, False),
        [H, LONG, H, EXIT_LONG, SHORT, EXIT_SHORT],
    )


def test_thrust_signals_use_symmetric_levels_and_zero_exits() -> None:
    np.testing.assert_array_equal(
        thrust_signals(arr(0, 6, 1, -1, -6, 2), 5.0), [H, LONG, H, EXIT_LONG, SHORT, EXIT_SHORT]
    )


def test_state_signals_fire_when_the_regime_changes() -> None:
    np.testing.assert_array_equal(
        state_signals(arr(np.nan, 1, 1, -1, -1, 0, 1)), [H, H, H, SHORT, H, FLAT, LONG]
    )


def test_zone_crossover_keeps_only_crosses_in_the_extremes() -> None:
    k = arr(10, 20, 50, 40, 90, 80)
    d = arr(15, 15, 45, 45, 85, 85)
    # up-cross at 1 (d=15 < 20) counts; up-cross at 2 is in the middle; down at 3 too;
    # up at 4 is overbought (not oversold); down at 5 with d = 85 > 80 counts
    np.testing.assert_array_equal(
        zone_crossover_signals(k, d, 20.0, 80.0), [H, LONG, H, H, H, SHORT]
    )


def test_event_signals_close_hold_bars_after_the_newest_entry() -> None:
    up = np.array([0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0], dtype=np.bool_)
    down = np.zeros(12, dtype=np.bool_)
    # entries at 1, 6, 8; 1 + 3 = 4 closes; 6 + 3 = 9 is pre-empted by 8; 8 + 3 = 11 closes
    np.testing.assert_array_equal(
        event_signals(up, down, 3), [H, LONG, H, H, FLAT, H, LONG, H, LONG, H, H, FLAT]
    )
