"""The audit trail: who did what, when and why, in a hash chain that shows tampering."""

from core.audit.checkpoint import (
    Verified,
    load_or_create_key,
    sign_checkpoint,
    verification,
    verify_audit,
)
from core.audit.trail import (
    AuditEntry,
    Tampered,
    append_entry,
    count_entries,
    read_entries,
    verify_trail,
    watch_appends,
)

__all__ = [
    "AuditEntry",
    "Tampered",
    "Verified",
    "append_entry",
    "count_entries",
    "load_or_create_key",
    "read_entries",
    "sign_checkpoint",
    "verification",
    "verify_audit",
    "verify_trail",
    "watch_appends",
]
