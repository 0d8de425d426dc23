"""Fixtures for the domain's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.store import Store


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A real store with the schema, on SQLite and on PostgreSQL."""
    store = Store(database_url)
    store.create_schema()
    yield store
    store.dispose()
