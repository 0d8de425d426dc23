"""Persistence: SQLModel tables, the database engine and the batching writer."""

from core.store.database import Store, create_database_engine
from core.store.tables import (
    AuditCheckpointRow,
    AuditRow,
    EquityRow,
    FillRow,
    JobCheckpointRow,
    JobControlRow,
    JobRow,
    JournalRow,
)
from core.store.writer import BatchWriter

__all__ = [
    "AuditCheckpointRow",
    "AuditRow",
    "BatchWriter",
    "EquityRow",
    "FillRow",
    "JobCheckpointRow",
    "JobControlRow",
    "JobRow",
    "JournalRow",
    "Store",
    "create_database_engine",
]
