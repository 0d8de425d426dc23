"""Persistence: SQLModel tables, the database engine and the batching writer."""

from core.store.database import Store, StoreDamaged, StoreUnavailable, create_database_engine
from core.store.tables import (
    AccountRow,
    ApiRefreshTokenRow,
    ApiRevocationRow,
    AuditCheckpointRow,
    AuditRow,
    AuthorizationRow,
    CheckResultRow,
    EquityRow,
    FillRow,
    JobCheckpointRow,
    JobControlRow,
    JobRow,
    JournalRow,
    SignoffRow,
    WaiverRow,
)
from core.store.writer import BatchWriter

__all__ = [
    "AccountRow",
    "ApiRefreshTokenRow",
    "ApiRevocationRow",
    "AuditCheckpointRow",
    "AuditRow",
    "AuthorizationRow",
    "BatchWriter",
    "CheckResultRow",
    "EquityRow",
    "FillRow",
    "JobCheckpointRow",
    "JobControlRow",
    "JobRow",
    "JournalRow",
    "SignoffRow",
    "Store",
    "StoreDamaged",
    "StoreUnavailable",
    "WaiverRow",
    "create_database_engine",
]
