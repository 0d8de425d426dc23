"""Who may do what. One table, read by every front end and by the Deck's command layer.

Roles are not a ladder: a release manager waives items and authorizes a
release but does not trade; an operator trades and signs off the checklist
roles that are theirs (e.g. Operations) but may not waive or authorize.
``admin`` may do everything. Viewing needs no capability: every role sees
everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    RELEASE_MANAGER = "release_manager"
    ADMIN = "admin"


class Capability(StrEnum):
    TRADE = "trade"  # start/stop strategies, cancel orders, the kill switch
    RESET_RISK = "reset_risk"  # lift a halt: the one trading action an operator may not take
    RESET_ACCOUNT = "reset_account"  # archive the paper account and open a new one
    RUN_JOBS = "run_jobs"  # submit, cancel, pause, resume, reprioritise, rerun
    RUN_CHECKS = "run_checks"  # run readiness probes and export their reports
    ATTEST = "attest"  # record a manual check's evidence
    WAIVE = "waive"  # accept a failing item for a release
    SIGN_OFF = "sign_off"  # a role's sign-off of a release
    RUN_RUNBOOK = "run_runbook"  # execute deployment and rollback steps
    AUTHORIZE = "authorize"  # authorize a signed-off release for deployment


GRANTS: dict[Capability, frozenset[Role]] = {
    Capability.TRADE: frozenset({Role.OPERATOR, Role.ADMIN}),
    Capability.RESET_RISK: frozenset({Role.ADMIN}),
    Capability.RESET_ACCOUNT: frozenset({Role.ADMIN}),
    Capability.RUN_JOBS: frozenset({Role.OPERATOR, Role.ADMIN}),
    Capability.RUN_CHECKS: frozenset({Role.OPERATOR, Role.RELEASE_MANAGER, Role.ADMIN}),
    Capability.ATTEST: frozenset({Role.OPERATOR, Role.RELEASE_MANAGER, Role.ADMIN}),
    Capability.WAIVE: frozenset({Role.RELEASE_MANAGER, Role.ADMIN}),
    Capability.SIGN_OFF: frozenset({Role.OPERATOR, Role.RELEASE_MANAGER, Role.ADMIN}),
    Capability.RUN_RUNBOOK: frozenset({Role.OPERATOR, Role.ADMIN}),
    Capability.AUTHORIZE: frozenset({Role.RELEASE_MANAGER, Role.ADMIN}),
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The person behind a session: who is recorded in the audit trail, their role, and
    where they act from (``"local"``, ``"cli"``, ``"ssh 10.0.0.5:51234"``), which every
    audit entry of theirs carries."""

    name: str
    role: Role
    source: str = "local"


#: The Deck acting on its own behalf (the start-up readiness run, the demo job).
SYSTEM = Principal("quarterdeck", Role.ADMIN, source="deck")


class PermissionDenied(Exception):
    """Raised by a command the caller's role may not run. The message names the user, their
    role and the capability they lack; ``action`` is the command refused (e.g. ``risk.reset``).
    """

    def __init__(self, principal: Principal, capability: Capability, action: str = "") -> None:
        self.principal = principal
        self.capability = capability
        self.action = action
        self.reason = denial(principal.role, capability) or f"{capability.value} refused"
        super().__init__(f"{principal.name}: {self.reason}")


def denial(role: Role, capability: Capability) -> str | None:
    """None when ``role`` holds ``capability``; otherwise the reason, fit to show a user."""
    allowed = GRANTS[capability]
    if role in allowed:
        return None
    needed = " or ".join(sorted(r.value for r in allowed if r is not Role.ADMIN)) or "admin"
    return f"the {role.value} role may not {capability.value.replace('_', ' ')} (needs {needed})"


def require(principal: Principal, capability: Capability, action: str = "") -> None:
    """Raise ``PermissionDenied`` unless ``principal``'s role holds ``capability``."""
    if denial(principal.role, capability) is not None:
        raise PermissionDenied(principal, capability, action)
