"""The command layer's gate: a command runs only for a role that holds its capability, and
both what is done and what is refused are audited with the actor's name and source.

Every command that changes state (the Deck's trading and job commands, the readiness
ledger, the readiness service, runbook steps) calls ``permit`` (or ``refusal`` where it
audits through its own writer) before it does anything, so a forbidden command is
refused whatever front end sent it. A refusal is a ``denied.<action>`` audit entry and a
warning in the log; an action's own entry carries ``source`` in its detail (the audit
row has no field for it, and the detail is inside the chained hash).

``record`` and ``permit`` write to the store: call them from a worker thread, or
``permit_async`` from the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from core.access import Capability, PermissionDenied, Principal, denial
from core.audit import AuditEntry, append_entry
from core.store import Store

log = logging.getLogger(__name__)
DENIED = "denied."  # the prefix of every refusal's audit action


def refusal(actor: Principal, capability: Capability, action: str) -> PermissionDenied | None:
    """None when ``actor`` may run ``action``; otherwise the error to raise (logged here)."""
    if denial(actor.role, capability) is None:
        return None
    error = PermissionDenied(actor, capability, action)
    log.warning("refused %s to %s (%s, from %s): %s", action, actor.name, actor.role.value,
                actor.source, error.reason)  # fmt: skip
    return error


def denied_detail(error: PermissionDenied) -> dict[str, Any]:
    """What a ``denied.<action>`` entry records besides the actor's name."""
    return {"role": error.principal.role.value, "capability": error.capability.value,
            "reason": error.reason, "source": error.principal.source}  # fmt: skip


def record(
    store: Store, actor: Principal, action: str, subject: str, detail: dict[str, Any] | None = None
) -> AuditEntry:
    """Audit an action by ``actor``, with where they acted from."""
    return append_entry(store, actor.name, action, subject,
                        {**(detail or {}), "source": actor.source})  # fmt: skip


def permit(
    store: Store, actor: Principal, capability: Capability, action: str, subject: str
) -> None:
    """Return if ``actor`` may run ``action`` on ``subject``; otherwise audit the attempt as
    ``denied.<action>`` and raise ``PermissionDenied``."""
    error = refusal(actor, capability, action)
    if error is not None:
        record(store, actor, DENIED + action, subject, denied_detail(error))
        raise error


async def permit_async(
    store: Store, actor: Principal, capability: Capability, action: str, subject: str
) -> None:
    """``permit`` for the event loop: a refusal's audit entry is written in a thread."""
    error = refusal(actor, capability, action)
    if error is not None:
        await asyncio.to_thread(record, store, actor, DENIED + action, subject,
                                denied_detail(error))  # fmt: skip
        raise error
