"""Fixtures for console tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from console.app import QuarterdeckApp
from tests.console.frozen import frozen_app


@pytest.fixture
def make_frozen_app(tmp_path: Path) -> Callable[..., QuarterdeckApp]:
    """``make_frozen_app(theme=..., role=...)``: a console that never moves on its own."""

    def make(**kwargs: object) -> QuarterdeckApp:
        return frozen_app(tmp_path / "frozen", **kwargs)  # type: ignore[arg-type]

    return make
