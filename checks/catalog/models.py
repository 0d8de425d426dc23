"""The shape of a checklist: pydantic models validated from catalog TOML files."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from checks.probes.base import Scope
from checks.probes.registry import (
    check_probe,
    check_probe_params,
    registry_in,
    resolve_scope,
)

CHECKLIST_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
#: Dotted snake_case with at least two parts, e.g. ``host.disk_free``.
ITEM_ID_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$"
#: A seed reference: three-digit seed number, colon, the item's label in that seed.
SOURCE_PATTERN = r"^\d{3}: \S.*$"

ChecklistId = Annotated[str, Field(pattern=CHECKLIST_ID_PATTERN)]
ItemId = Annotated[str, Field(pattern=ITEM_ID_PATTERN)]
SourceRef = Annotated[str, Field(pattern=SOURCE_PATTERN)]
Text = Annotated[str, Field(min_length=1)]


class Severity(StrEnum):
    BLOCKING = "blocking"  # must pass (or be waived) before go-live
    ADVISORY = "advisory"  # should pass; a miss is reported but does not block


class ItemKind(StrEnum):
    PROBE = "probe"  # decided by an automated probe
    MANUAL = "manual"  # decided by a person looking at evidence


class Role(StrEnum):
    """Who owns an item and, later, who signs it off."""

    SECURITY = "Security"
    INFRASTRUCTURE = "Infrastructure"
    QA = "QA"
    DEVELOPMENT = "Development"
    PRODUCT_OWNER = "Product Owner"
    RISK_MANAGEMENT = "Risk Management"
    COMPLIANCE = "Compliance"
    OPERATIONS = "Operations"


def require_unique_ids(ids: Iterable[str], what: str) -> None:
    """Raise naming the first id that repeats (checklist items, runbook steps)."""
    seen: set[str] = set()
    for entry_id in ids:
        if entry_id in seen:
            raise ValueError(f"duplicate {what} id {entry_id!r}")
        seen.add(entry_id)


class StrictModel(BaseModel):
    """Frozen, and unknown fields are errors (a typo must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ChecklistItem(StrictModel):
    """One thing that must be true before go-live."""

    id: ItemId
    section: Text
    title: Text
    why: Text
    severity: Severity
    kind: ItemKind
    # ``probe`` and ``params`` come after ``kind`` so their validators can see it.
    probe: str | None = Field(default=None, validate_default=True)
    params: dict[str, Any] = Field(default_factory=dict, validate_default=True)
    #: What the item examines (``target``, ``target-host``, ``target-database``,
    #: ``quarterdeck`` or ``manual``). A probe item's default is its probe's first scope;
    #: one its probe cannot examine is refused, so no item passes on evidence about
    #: something else. A manual item's is always ``manual``.
    scope: Scope | None = Field(default=None, validate_default=True)
    #: Seconds the probe may take, where the run's default is too short (a code scan).
    timeout: float | None = Field(default=None, gt=0, le=600)
    owner: Role
    evidence: Text
    sources: tuple[SourceRef, ...] = Field(min_length=1)

    @field_validator("probe")
    @classmethod
    def _probe_matches_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind is ItemKind.PROBE:
            if value is None:
                raise ValueError('a "probe" item must name its probe, e.g. probe = "host.disk"')
            check_probe(registry_in(info.context), value)
        elif kind is ItemKind.MANUAL and value is not None:
            raise ValueError('a "manual" item has no probe; use kind = "probe" or drop probe')
        return value

    @field_validator("params")
    @classmethod
    def _params_fit_probe(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if "probe" not in info.data:
            return value  # the probe field itself failed; that error says enough
        name = info.data["probe"]
        if name is None:
            if value:
                raise ValueError("params are only allowed on probe items")
            return value
        registry = registry_in(info.context)
        if name in registry:
            check_probe_params(registry, name, value)
        return value

    @field_validator("scope")
    @classmethod
    def _scope_fits_probe(cls, value: Scope | None, info: ValidationInfo) -> Scope | None:
        name = info.data.get("probe")
        if info.data.get("kind") is ItemKind.MANUAL:
            if value not in (None, Scope.MANUAL):
                raise ValueError(f'a "manual" item examines nothing automatically; '
                                 f'scope {value.value!r} needs a probe')  # fmt: skip
            return Scope.MANUAL
        registry = registry_in(info.context)
        if name is None or name not in registry:
            return value  # the probe field's own error says enough
        return resolve_scope(registry, name, value)


def _at_least_one(items: tuple[ChecklistItem, ...]) -> tuple[ChecklistItem, ...]:
    # An after-validator rather than min_length: pydantic would also report a
    # spurious "0 items after validation" whenever any one item is invalid.
    if not items:
        raise ValueError("a checklist needs at least one item")
    return items


Items = Annotated[tuple[ChecklistItem, ...], AfterValidator(_at_least_one)]


class ChecklistHeader(StrictModel):
    """The ``[checklist]`` table of a catalog file."""

    id: ChecklistId
    title: Text
    description: Text


class Checklist(ChecklistHeader):
    """A named, ordered list of items (the header plus the ``[[items]]`` of one file)."""

    items: Items

    @model_validator(mode="after")
    def _unique_ids(self) -> Checklist:
        require_unique_ids((item.id for item in self.items), "item")
        return self

    def item(self, item_id: str) -> ChecklistItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    @property
    def probe_items(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.items if item.kind is ItemKind.PROBE)

    @property
    def manual_items(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.items if item.kind is ItemKind.MANUAL)
