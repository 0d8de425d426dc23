"""Fixtures for the domain's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store with the schema, in the test's own folder."""
    store = Store(f"sqlite:///{tmp_path / 'quarterdeck.db'}")
    store.create_schema()
    yield store
    store.dispose()
