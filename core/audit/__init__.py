"""The audit trail: who did what, when and why, in a hash chain that shows tampering."""

from core.audit.trail import AuditEntry, Tampered, append_entry, read_entries, verify_trail

__all__ = ["AuditEntry", "Tampered", "append_entry", "read_entries", "verify_trail"]
