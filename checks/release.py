"""Where a release stands: each item's current verdict, waivers, sign-offs, authorization.

Pure functions over the recorded rows (``checks.ledger`` reads and writes
them). The rules:

- An item's verdict is its newest result, from a probe or an attestation.
- A waiver holds until it expires; an expired waiver no longer counts, and
  the item is judged by its verdict again. Waived items stay visible.
- A blocking item is satisfied when it passes (or warns) or holds a valid
  waiver. Advisory items never block.
- The blocking items' state has a fingerprint. A sign-off or an
  authorization counts only while the fingerprint is the one it was given
  on: any later change to a blocking item (a new verdict, a waiver given or
  expired) voids them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from checks.catalog import Checklist, ChecklistItem, Role, Severity
from core import __version__
from core.config import Settings
from core.events import Verdict
from core.store import AuthorizationRow, CheckResultRow, SignoffRow, WaiverRow

SATISFIED = frozenset({Verdict.PASS.value, Verdict.WARN.value})
DEFAULT_ROLES: tuple[str, ...] = tuple(role.value for role in Role)


def default_release(settings: Settings) -> str:
    """The release the console and the CLI use when none is given: ``QD_RELEASE``, else
    the running version (``quarterdeck --version``). One answer for both front ends, so
    what one records the other reads."""
    return settings.release.strip() or __version__


@dataclass(frozen=True, slots=True)
class Release:
    checklist: str
    version: str
    environment: str

    def __str__(self) -> str:
        return f"{self.checklist} {self.version} ({self.environment})"


@dataclass(frozen=True, slots=True)
class ItemState:
    item: ChecklistItem
    result: CheckResultRow | None  # the newest, None while never run or attested
    waiver: WaiverRow | None  # the newest valid waiver
    expired_waiver: WaiverRow | None  # the newest waiver, if it has expired and none is valid

    @property
    def verdict(self) -> str:
        if self.result is not None:
            return self.result.verdict
        return Verdict.PENDING.value if self.item.probe else Verdict.MANUAL.value

    @property
    def blocking(self) -> bool:
        return self.item.severity is Severity.BLOCKING

    @property
    def satisfied(self) -> bool:
        return self.waiver is not None or self.verdict in SATISFIED

    @property
    def status(self) -> str:
        """What a report shows: the verdict, or "waived" over a failing one."""
        if self.waiver is not None and self.verdict not in SATISFIED:
            return "waived"
        return self.verdict


@dataclass(frozen=True, slots=True)
class ReleaseState:
    release: Release
    items: tuple[ItemState, ...]
    fingerprint: str
    signed: dict[str, SignoffRow]  # role -> its valid sign-off
    stale_signoffs: tuple[SignoffRow, ...]  # given on an earlier state of the blocking items
    required_roles: tuple[str, ...]
    authorization: AuthorizationRow | None  # valid
    voided_authorization: AuthorizationRow | None  # the newest one a change has voided

    @property
    def targets(self) -> list[str]:
        """The targets the current verdicts were given on, newest first (one, usually;
        more when the release was judged against different deployments)."""
        rows = [s.result for s in self.items if s.result is not None and s.result.target]
        rows.sort(key=lambda row: row.ts, reverse=True)
        return list(dict.fromkeys(row.target for row in rows))

    @property
    def target(self) -> str:
        """What reports print as the target: every one, newest first, or "not recorded"."""
        return ", ".join(self.targets) or "not recorded"

    @property
    def blocking_failures(self) -> list[ItemState]:
        return [s for s in self.items if s.blocking and not s.satisfied]

    @property
    def missing_roles(self) -> list[str]:
        return [role for role in self.required_roles if role not in self.signed]

    @property
    def ready(self) -> bool:
        """Every blocking item satisfied: the CI gate."""
        return not self.blocking_failures

    @property
    def authorizable(self) -> bool:
        return self.ready and not self.missing_roles

    def reasons_not_authorizable(self) -> list[str]:
        reasons = [f"{s.item.id} is {s.verdict}" for s in self.blocking_failures]
        reasons += [f"no valid sign-off from {role}" for role in self.missing_roles]
        return reasons


def evaluate(
    checklist: Checklist,
    release: Release,
    results: Sequence[CheckResultRow],
    waivers: Sequence[WaiverRow],
    signoffs: Sequence[SignoffRow],
    authorizations: Sequence[AuthorizationRow],
    now: float,
    required_roles: Iterable[str] = DEFAULT_ROLES,
) -> ReleaseState:
    """The release's state from its rows (each sequence oldest first)."""
    newest: dict[str, CheckResultRow] = {}
    for row in results:
        newest[row.item_id] = row
    valid: dict[str, WaiverRow] = {}
    expired: dict[str, WaiverRow] = {}
    for waiver in waivers:
        (valid if waiver.expires_at > now else expired)[waiver.item_id] = waiver
    items = tuple(
        ItemState(item, newest.get(item.id), valid.get(item.id),
                  None if item.id in valid else expired.get(item.id))
        for item in checklist.items
    )  # fmt: skip
    fingerprint = blocking_fingerprint(items)
    signed = {s.role: s for s in signoffs if s.fingerprint == fingerprint}
    stale = tuple(s for s in signoffs if s.fingerprint != fingerprint)
    current = [a for a in authorizations if a.fingerprint == fingerprint]
    voided = [a for a in authorizations if a.fingerprint != fingerprint]
    return ReleaseState(
        release, items, fingerprint, signed, stale, tuple(required_roles),
        current[-1] if current else None, voided[-1] if voided else None,
    )  # fmt: skip


def blocking_fingerprint(items: Sequence[ItemState]) -> str:
    """A hash of what decides the blocking items: each one's verdict and valid waiver."""
    state = [
        [s.item.id, s.verdict, s.waiver.id if s.waiver is not None else None]
        for s in items
        if s.blocking
    ]
    return hashlib.sha256(json.dumps(state, separators=(",", ":")).encode()).hexdigest()
