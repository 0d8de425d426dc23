"""The engine's trailing bar window."""

from __future__ import annotations

import numpy as np
import pytest

from core.events import Bar
from core.market.window import BarWindow


def bar(i: int) -> Bar:
    return Bar("X", float(i), i + 0.1, i + 0.2, i + 0.3, i + 0.4, i + 0.5)


def test_keeps_the_last_capacity_bars_in_order_across_compactions() -> None:
    window = BarWindow(3)
    for i in range(10):
        window.append(bar(i))
        recent = list(range(max(0, i - 2), i + 1))
        assert len(window) == len(recent)
        np.testing.assert_allclose(window.columns()["close"], [r + 0.4 for r in recent])
    np.testing.assert_allclose(window.columns()["open"], [7.1, 8.1, 9.1])
    np.testing.assert_allclose(window.columns()["volume"], [7.5, 8.5, 9.5])


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        BarWindow(0)
